//! The sliding buffer records are parsed from, refilled from the decoder.
//!
//! The window keeps a fixed size in steady state. It only grows when one
//! top-level value does not fit (up to the reader's limit), and drops back
//! to its nominal size as soon as what it holds fits again.

use std::io::Read;

use super::compression::{Failure, Input};

/// A buffer of uncompressed text with a consumed prefix.
pub(crate) struct Window {
    /// Always fully initialised, since `Read` needs initialised memory.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Offset in the uncompressed text of `buf[start]`.
    offset: u64,
    nominal: usize,
}

impl Window {
    pub(crate) fn new(nominal: usize) -> Self {
        Window {
            buf: vec![0; nominal],
            start: 0,
            end: 0,
            offset: 0,
            nominal,
        }
    }

    /// The unconsumed bytes.
    pub(crate) fn data(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// The uncompressed offset of `data()[0]`.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// The buffer's current size.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Marks the first `n` unconsumed bytes as used.
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.offset += n as u64;
    }

    /// Moves the unconsumed bytes to the front, shrinking back to the
    /// nominal size if they fit, then reads until the buffer is full or the
    /// input ends. Returns the bytes read.
    pub(crate) fn refill<R: Read>(&mut self, input: &mut Input<R>) -> Result<usize, Failure> {
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        // Shrink only with room to spare, so a window just grown to fit a
        // value is not shrunk straight back.
        if self.buf.len() > self.nominal && self.end <= self.nominal / 2 {
            self.buf.truncate(self.nominal);
            self.buf.shrink_to_fit();
        }
        let read = input.fill(self.buf.get_mut(self.end..).unwrap_or_default())?;
        self.end += read;
        Ok(read)
    }

    /// Doubles the buffer, up to `limit` bytes; `false` if already there.
    pub(crate) fn grow(&mut self, limit: usize) -> bool {
        let target = (self.buf.len() * 2).min(limit.max(self.nominal));
        if target <= self.buf.len() {
            return false;
        }
        self.buf.resize(target, 0);
        true
    }

    /// Whether the buffer is full of unconsumed bytes.
    pub(crate) fn is_full(&self) -> bool {
        self.start == 0 && self.end == self.buf.len()
    }

    /// Replaces the contents with `bytes`, which start at `offset` in the text.
    pub(crate) fn load(&mut self, bytes: &[u8], offset: u64) {
        if bytes.len() > self.buf.len() {
            self.buf.resize(bytes.len(), 0);
        }
        self.start = 0;
        self.end = bytes.len();
        if let Some(front) = self.buf.get_mut(..bytes.len()) {
            front.copy_from_slice(bytes);
        }
        self.offset = offset;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refill_keeps_unconsumed_bytes_and_offsets() {
        let text: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let (mut input, _) = Input::open(text.as_slice()).unwrap();
        let mut window = Window::new(300);
        assert_eq!(window.refill(&mut input).unwrap(), 300);
        window.consume(250);
        assert_eq!(window.offset(), 250);
        assert_eq!(window.refill(&mut input).unwrap(), 250);
        assert_eq!(window.data(), &text[250..550]);
        assert!(window.is_full());
    }

    #[test]
    fn grows_to_the_limit_then_shrinks_back() {
        let text = vec![b' '; 5000];
        let (mut input, _) = Input::open(text.as_slice()).unwrap();
        let mut window = Window::new(1000);
        window.refill(&mut input).unwrap();
        assert!(window.grow(3000));
        assert!(window.grow(3000));
        assert!(!window.grow(3000));
        assert_eq!(window.capacity(), 3000);
        window.refill(&mut input).unwrap();
        assert_eq!(window.data().len(), 3000);
        window.consume(2000);
        window.refill(&mut input).unwrap();
        assert_eq!(
            window.capacity(),
            3000,
            "1000 bytes left: no room to spare yet"
        );
        window.consume(2600);
        window.refill(&mut input).unwrap();
        assert_eq!(window.capacity(), 1000);
        assert_eq!(window.offset(), 4600);
        assert_eq!(window.data().len(), 400);
    }

    #[test]
    fn load_replaces_the_contents() {
        let mut window = Window::new(4);
        window.load(b"0123456789", 42);
        assert_eq!((window.data(), window.offset()), (&b"0123456789"[..], 42));
    }
}
