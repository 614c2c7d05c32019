//! What the fuzz targets share: the Prometheus text reader the test suite
//! uses too, and the splitting of one input into several fields.

#[path = "../../exposition_support/mod.rs"]
pub mod exposition;

/// Splits an input into text fields at each `0x00` byte (a byte none of
/// the seeds needs inside a field), decoding each field lossily so that
/// every input reaches the code under test.
#[must_use]
pub fn fields(data: &[u8]) -> Vec<String> {
    data.split(|&b| b == 0)
        .map(|field| String::from_utf8_lossy(field).into_owned())
        .collect()
}
