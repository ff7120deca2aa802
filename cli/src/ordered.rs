//! Output written by many workers, in the order of the inputs.
//!
//! Files finish out of order; each worker hands its file's rendered output
//! over with the file's position, and it is written as soon as every
//! earlier file's output has been. Memory holds only the outputs that are
//! ahead of a slower file, not the whole run's. A separator (`,` between
//! the members of a JSON array) goes between non-empty chunks.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::Mutex;

/// A writer taking chunks by position (see the module doc).
pub struct OrderedWriter<W: Write> {
    state: Mutex<State<W>>,
}

struct State<W> {
    out: W,
    /// Written between two non-empty chunks.
    separator: &'static [u8],
    /// Whether a non-empty chunk has been written.
    wrote: bool,
    /// The position written next.
    next: usize,
    /// Chunks that arrived before an earlier one.
    waiting: BTreeMap<usize, Vec<u8>>,
    /// The first write error; later chunks are dropped.
    error: Option<io::Error>,
}

impl<W: Write> OrderedWriter<W> {
    /// Writes to `out`, starting at position 0, with `separator` between
    /// non-empty chunks.
    pub fn new(out: W, separator: &'static [u8]) -> OrderedWriter<W> {
        OrderedWriter {
            state: Mutex::new(State {
                out,
                separator,
                wrote: false,
                next: 0,
                waiting: BTreeMap::new(),
                error: None,
            }),
        }
    }

    /// Hands over the chunk at `position` (possibly empty); writes it and
    /// every waiting chunk after it once all earlier positions are in.
    pub fn put(&self, position: usize, chunk: Vec<u8>) {
        // A poisoned lock means a worker panicked while writing: its state
        // is still consistent (a write either happened or not).
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.waiting.insert(position, chunk);
        while let Some(chunk) = {
            let next = state.next;
            state.waiting.remove(&next)
        } {
            state.next += 1;
            state.write(&chunk);
        }
    }

    /// Writes whatever is still waiting (positions that never came are
    /// skipped), flushes, and returns the writer and whether any non-empty
    /// chunk was written, or the first write error.
    pub fn finish(self) -> io::Result<(W, bool)> {
        let mut state = self.state.into_inner().unwrap_or_else(|e| e.into_inner());
        for chunk in std::mem::take(&mut state.waiting).into_values() {
            state.write(&chunk);
        }
        if state.error.is_none()
            && let Err(e) = state.out.flush()
        {
            state.error = Some(e);
        }
        match state.error {
            Some(e) => Err(e),
            None => Ok((state.out, state.wrote)),
        }
    }
}

impl<W: Write> State<W> {
    fn write(&mut self, chunk: &[u8]) {
        if chunk.is_empty() || self.error.is_some() {
            return;
        }
        let separator = if self.wrote { self.separator } else { b"" };
        self.wrote = true;
        if let Err(e) = self
            .out
            .write_all(separator)
            .and_then(|()| self.out.write_all(chunk))
        {
            self.error = Some(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(writer: &OrderedWriter<Vec<u8>>) -> String {
        let state = writer.state.lock().unwrap();
        String::from_utf8(state.out.clone()).unwrap()
    }

    #[test]
    fn chunks_are_written_in_position_order_as_soon_as_possible() {
        let writer = OrderedWriter::new(Vec::new(), b"");
        writer.put(1, b"b".to_vec());
        assert_eq!(written(&writer), "", "1 waits for 0");
        writer.put(0, b"a".to_vec());
        assert_eq!(written(&writer), "ab");
        writer.put(3, b"d".to_vec());
        writer.put(2, Vec::new());
        assert_eq!(written(&writer), "abd");
        assert_eq!(writer.finish().unwrap(), (b"abd".to_vec(), true));
    }

    #[test]
    fn finish_writes_what_waits_behind_a_missing_position() {
        let writer = OrderedWriter::new(Vec::new(), b"");
        writer.put(2, b"c".to_vec());
        writer.put(0, b"a".to_vec());
        assert_eq!(writer.finish().unwrap().0, b"ac");
    }

    #[test]
    fn workers_on_many_threads_keep_the_order() {
        let writer = OrderedWriter::new(Vec::new(), b"");
        std::thread::scope(|scope| {
            for worker in 0..4 {
                let writer = &writer;
                scope.spawn(move || {
                    for position in (worker..100).step_by(4).rev() {
                        writer.put(position, format!("{position},").into_bytes());
                    }
                });
            }
        });
        let expected: String = (0..100).map(|p| format!("{p},")).collect();
        assert_eq!(writer.finish().unwrap().0, expected.into_bytes());
    }

    #[test]
    fn the_separator_goes_between_non_empty_chunks_only() {
        let writer = OrderedWriter::new(Vec::new(), b",");
        writer.put(0, Vec::new());
        writer.put(2, b"b".to_vec());
        writer.put(1, b"a".to_vec());
        writer.put(3, Vec::new());
        writer.put(4, b"c".to_vec());
        assert_eq!(writer.finish().unwrap(), (b"a,b,c".to_vec(), true));
        let empty = OrderedWriter::new(Vec::new(), b",");
        empty.put(0, Vec::new());
        assert_eq!(empty.finish().unwrap(), (Vec::new(), false));
    }

    struct Broken;

    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_first_write_error_is_returned() {
        let writer = OrderedWriter::new(Broken, b"");
        writer.put(0, b"a".to_vec());
        writer.put(1, b"b".to_vec());
        let err = writer.finish().err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }
}
