//! The canonical byte encoding shared by posts and wire messages: fixed-size fields as they are,
//! integers big-endian, variable fields with a `u32` length. One encoding, so that what is signed
//! and hashed is exactly what travels.

use thiserror::Error;

/// Why bytes from a neighbour are not a post or a wire message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("truncated: {0} ends early")]
    Truncated(&'static str),
    #[error("{what} too long: {len} > {max}")]
    TooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
    #[error("unknown {what} tag {tag}")]
    UnknownTag { what: &'static str, tag: u8 },
    #[error("{0} is not UTF-8")]
    NotUtf8(&'static str),
    #[error("{0} trailing bytes")]
    Trailing(usize),
}

#[derive(Debug, Default)]
pub(crate) struct Writer(pub(crate) Vec<u8>);

impl Writer {
    pub(crate) fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    pub(crate) fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub(crate) fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub(crate) fn fixed(&mut self, v: &[u8]) -> &mut Self {
        self.0.extend_from_slice(v);
        self
    }
    pub(crate) fn bytes(&mut self, v: &[u8]) -> &mut Self {
        // Lengths are bounded far below 4 GiB by every MAX_* constant before encoding.
        self.u32(u32::try_from(v.len()).unwrap_or(u32::MAX));
        self.fixed(v)
    }
}

#[derive(Debug)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }
    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.rest.len() < n {
            return Err(DecodeError::Truncated(what));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }
    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }
    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8, what)?);
        Ok(u64::from_be_bytes(a))
    }
    pub(crate) fn array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }
    pub(crate) fn bytes(
        &mut self,
        max: usize,
        what: &'static str,
    ) -> Result<&'a [u8], DecodeError> {
        let len = self.u32(what)? as usize;
        if len > max {
            return Err(DecodeError::TooLong { what, len, max });
        }
        self.take(len, what)
    }
    /// A count of items that follow, each at least `min_item` bytes: refused before anything
    /// is allocated for them if it exceeds `max` or what the remaining bytes could hold.
    pub(crate) fn count(
        &mut self,
        max: usize,
        min_item: usize,
        what: &'static str,
    ) -> Result<usize, DecodeError> {
        let n = self.u32(what)? as usize;
        if n > max {
            return Err(DecodeError::TooLong { what, len: n, max });
        }
        if n.saturating_mul(min_item) > self.rest.len() {
            return Err(DecodeError::Truncated(what));
        }
        Ok(n)
    }
    pub(crate) fn remaining(&self) -> usize {
        self.rest.len()
    }
    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Trailing(self.rest.len()))
        }
    }
}
