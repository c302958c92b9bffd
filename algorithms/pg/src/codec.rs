//! A tiny, versioned, little-endian format for saved parameters: a magic
//! tag, then length-prefixed `f64` vectors and `u64` words in a fixed order.

use trustbench_plugin::{Error, Result};

const MAGIC: &[u8; 8] = b"TBPG\x00\x00\x00\x01";

/// Writes sections in order.
#[derive(Debug, Default)]
pub struct Encoder {
    bytes: Vec<u8>,
}

impl Encoder {
    /// A new encoder, magic tag written.
    pub fn new() -> Encoder {
        Encoder {
            bytes: MAGIC.to_vec(),
        }
    }

    /// Append a vector of reals.
    pub fn reals(&mut self, values: &[f64]) -> &mut Self {
        self.word(values.len() as u64);
        values
            .iter()
            .for_each(|v| self.bytes.extend_from_slice(&v.to_le_bytes()));
        self
    }

    /// Append one 64-bit word.
    pub fn word(&mut self, w: u64) -> &mut Self {
        self.bytes.extend_from_slice(&w.to_le_bytes());
        self
    }

    /// The bytes written so far, leaving the encoder empty (hence `&mut`,
    /// so a chain of `word`/`reals` calls can end in it).
    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.bytes)
    }
}

/// Reads sections in the order they were written, with errors instead of
/// panics on short or foreign input.
#[derive(Debug)]
pub struct Decoder<'a> {
    rest: &'a [u8],
}

impl<'a> Decoder<'a> {
    /// Check the magic tag.
    pub fn new(bytes: &'a [u8]) -> Result<Decoder<'a>> {
        match bytes.strip_prefix(MAGIC.as_slice()) {
            Some(rest) => Ok(Decoder { rest }),
            None => Err(Error::new(
                "saved parameters are not in trustbench-pg format v1",
            )),
        }
    }

    /// Next 64-bit word.
    pub fn word(&mut self) -> Result<u64> {
        if self.rest.len() < 8 {
            return Err(Error::new("saved parameters are truncated"));
        }
        let (w, rest) = self.rest.split_at(8);
        self.rest = rest;
        Ok(u64::from_le_bytes(w.try_into().expect("8 bytes")))
    }

    /// Next vector of reals, which must have `expected` entries.
    pub fn reals(&mut self, expected: usize, what: &str) -> Result<Vec<f64>> {
        let n = self.word()? as usize;
        if n != expected {
            return Err(Error::new(format!(
                "saved {what} has {n} values; this instance needs {expected}"
            )));
        }
        (0..n).map(|_| self.word().map(f64::from_bits)).collect()
    }

    /// Fail unless everything was read.
    pub fn finish(self) -> Result<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(Error::new("saved parameters have trailing bytes"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let bytes = Encoder::new().reals(&[1.5, -2.0]).word(7).finish();
        let mut d = Decoder::new(&bytes).unwrap();
        assert_eq!(d.reals(2, "x").unwrap(), vec![1.5, -2.0]);
        assert_eq!(d.word().unwrap(), 7);
        d.finish().unwrap();
        assert!(Decoder::new(b"nope").is_err());
        assert!(
            Decoder::new(&bytes)
                .unwrap()
                .reals(3, "x")
                .unwrap_err()
                .0
                .contains("needs 3")
        );
        assert!(Decoder::new(&bytes[..12]).unwrap().reals(2, "x").is_err());
    }
}
