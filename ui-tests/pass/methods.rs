use obs_runtime::instrumented;

struct Counter {
    n: u32,
}

impl Counter {
    #[instrumented]
    fn new() -> Self {
        Self { n: 0 }
    }

    #[instrumented]
    fn get(&self) -> u32 {
        self.n
    }

    #[instrumented]
    fn bump(&mut self, by: u32) -> &mut Self {
        self.n += by;
        self
    }

    #[instrumented]
    fn into_inner(self) -> u32 {
        self.n
    }

    #[instrumented]
    fn checked(&self, limit: u32) -> Result<u32, String> {
        if self.n > limit { Err(format!("{} > {limit}", self.n)) } else { Ok(self.n) }
    }
}

trait Describe {
    fn describe(&self) -> String;
    fn reset(&mut self);
    fn consume(self) -> u32;
}

impl Describe for Counter {
    #[instrumented]
    fn describe(&self) -> String {
        format!("counter at {}", self.n)
    }

    #[instrumented]
    fn reset(&mut self) {
        self.n = 0;
    }

    #[instrumented]
    fn consume(self) -> u32 {
        self.n + 1
    }
}

fn main() {
    borrows();
    let mut c = Counter::new();
    c.bump(2).bump(3);
    assert_eq!(c.get(), 5);
    assert_eq!(c.checked(10), Ok(5));
    assert!(c.checked(1).is_err());
    assert_eq!(c.describe(), "counter at 5");
    c.reset();
    assert_eq!(c.get(), 0);
    assert_eq!(Counter::new().consume(), 1);
    assert_eq!(c.into_inner(), 0);
}

// Returning a borrow of `&mut self` or of a `&mut` argument from a
// `Result`-returning sync function.
struct Slot {
    x: u8,
}

impl Slot {
    #[instrumented]
    fn get_mut(&mut self) -> Result<&mut u8, String> {
        Ok(&mut self.x)
    }
}

#[instrumented]
fn first_mut(v: &mut Vec<u8>) -> Result<&mut u8, String> {
    v.first_mut().ok_or_else(|| "empty".to_owned())
}

fn borrows() {
    let mut s = Slot { x: 1 };
    *s.get_mut().unwrap() += 1;
    let mut v = vec![1];
    *first_mut(&mut v).unwrap() = 3;
    assert_eq!((s.x, v[0]), (2, 3));
}
