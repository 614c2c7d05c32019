use std::fmt::Debug;
use std::ops::Add;

use obs_runtime::instrumented;

#[instrumented]
fn sum<T>(items: &[T]) -> T
where
    T: Copy + Default + Add<Output = T>,
{
    items.iter().fold(T::default(), |acc, &x| acc + x)
}

#[instrumented(fields(value))]
fn show<'a, T: Debug + ?Sized>(value: &'a T) -> String {
    format!("{value:?}")
}

#[instrumented]
fn parse<T>(s: &str) -> Result<T, T::Err>
where
    T: std::str::FromStr,
{
    s.parse()
}

const N: usize = 3;

#[instrumented]
fn first<const M: usize>(xs: [u8; M]) -> Option<u8> {
    xs.first().copied()
}

fn main() {
    assert_eq!(sum(&[1, 2, 3]), 6);
    assert_eq!(sum(&[0.5, 0.25]), 0.75);
    assert_eq!(show("x"), "\"x\"");
    assert_eq!(show(&[1, 2][..]), "[1, 2]");
    assert_eq!(parse::<u8>("7"), Ok(7));
    assert!(parse::<u8>("x").is_err());
    assert_eq!(first::<N>([9, 8, 7]), Some(9));
}
