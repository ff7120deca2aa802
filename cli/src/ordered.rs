//! Output written by many workers, in the order of the inputs, in bounded
//! memory.
//!
//! Each file gets a [`Slot`] at its position. The file at the head of the
//! order (every earlier one written) writes its items straight through as
//! they come. A file ahead of the head buffers its items; past its share
//! ([`PER_SLOT`]), or when finished files already wait with more than
//! [`WAITING`] bytes, its worker blocks until the file becomes the head
//! (back-pressure: the head's worker never waits, so the run always moves).
//! So memory holds at most a share per worker plus the waiting budget,
//! however many findings a file has.
//!
//! Every item starts with the separator (`,` between the members of a JSON
//! array); the first item written drops it.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Items a slot gathers before handing them over (fewer, larger writes
/// and lock round trips).
const HAND_OVER: usize = 64 * 1024;
/// What a file not at the head may buffer before its worker waits.
pub const PER_SLOT: usize = 1024 * 1024;
/// What finished files not yet at the head may hold in all.
pub const WAITING: usize = 8 * 1024 * 1024;

/// A writer taking items by position (see the module doc).
pub struct OrderedWriter<W: Write> {
    state: Mutex<State<W>>,
    /// Signalled whenever the head moves.
    turn: Condvar,
    separator: &'static [u8],
    per_slot: usize,
    waiting_cap: usize,
}

struct State<W> {
    out: W,
    /// Whether an item has been written.
    wrote: bool,
    /// The position written next (the head).
    next: usize,
    /// Finished chunks that arrived before an earlier one.
    waiting: BTreeMap<usize, Vec<u8>>,
    /// Bytes in `waiting`.
    waiting_bytes: usize,
    /// The first write error; later items are dropped.
    error: Option<io::Error>,
}

impl<W: Write> OrderedWriter<W> {
    /// Writes to `out`, starting at position 0, with `separator` before
    /// every item but the first.
    pub fn new(out: W, separator: &'static [u8]) -> OrderedWriter<W> {
        OrderedWriter::with_limits(out, separator, PER_SLOT, WAITING)
    }

    fn with_limits(
        out: W,
        separator: &'static [u8],
        per_slot: usize,
        waiting_cap: usize,
    ) -> OrderedWriter<W> {
        OrderedWriter {
            state: Mutex::new(State {
                out,
                wrote: false,
                next: 0,
                waiting: BTreeMap::new(),
                waiting_bytes: 0,
                error: None,
            }),
            turn: Condvar::new(),
            separator,
            per_slot,
            waiting_cap,
        }
    }

    /// The slot of the file at `position`; every position must get one
    /// (dropping it closes it), or later files wait for it until [`finish`].
    ///
    /// [`finish`]: OrderedWriter::finish
    pub fn slot(self: &Arc<Self>, position: usize) -> Slot<W> {
        Slot {
            writer: Arc::clone(self),
            position,
            buf: Vec::new(),
        }
    }

    /// Writes whatever is still waiting (positions that never came are
    /// skipped), flushes, and returns the writer and whether any item was
    /// written, or the first write error.
    pub fn finish(self) -> io::Result<(W, bool)> {
        let separator = self.separator;
        let mut state = self.state.into_inner().unwrap_or_else(|e| e.into_inner());
        for chunk in std::mem::take(&mut state.waiting).into_values() {
            state.write(&chunk, separator);
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

    fn lock(&self) -> MutexGuard<'_, State<W>> {
        // A poisoned lock means a worker panicked while writing: the state
        // is still consistent (a write either happened or not).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until `position` is the head, or `enough` holds.
    fn wait_turn<'a>(
        &'a self,
        mut state: MutexGuard<'a, State<W>>,
        position: usize,
        enough: impl Fn(&State<W>) -> bool,
    ) -> MutexGuard<'a, State<W>> {
        while state.next != position && !enough(&state) {
            state = self.turn.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state
    }
}

impl<W: Write> State<W> {
    fn write(&mut self, chunk: &[u8], separator: &[u8]) {
        if chunk.is_empty() || self.error.is_some() {
            return;
        }
        let chunk = if self.wrote {
            chunk
        } else {
            chunk.strip_prefix(separator).unwrap_or(chunk)
        };
        self.wrote = true;
        if let Err(e) = self.out.write_all(chunk) {
            self.error = Some(e);
        }
    }

    /// Moves the head past a finished position, writing the chunks that
    /// waited for it.
    fn advance(&mut self, separator: &[u8]) {
        self.next += 1;
        while let Some(chunk) = self.waiting.remove(&self.next) {
            self.waiting_bytes = self.waiting_bytes.saturating_sub(chunk.len());
            self.write(&chunk, separator);
            self.next += 1;
        }
    }
}

/// One file's place in the output (see the module doc).
pub struct Slot<W: Write> {
    writer: Arc<OrderedWriter<W>>,
    position: usize,
    buf: Vec<u8>,
}

impl<W: Write> Slot<W> {
    /// Adds one item, written by `render` after the separator.
    pub fn item(&mut self, render: impl FnOnce(&mut Vec<u8>)) {
        self.buf.extend_from_slice(self.writer.separator);
        render(&mut self.buf);
        if self.buf.len() >= HAND_OVER.min(self.writer.per_slot) {
            self.hand_over();
        }
    }

    /// Writes the buffer when at the head; past the slot's share, waits
    /// to be the head first.
    fn hand_over(&mut self) {
        let writer = &*self.writer;
        let state = writer.lock();
        if state.next != self.position && self.buf.len() < writer.per_slot {
            return;
        }
        let mut state = writer.wait_turn(state, self.position, |s| s.error.is_some());
        state.write(&self.buf, writer.separator);
        self.buf.clear();
    }
}

impl<W: Write> Drop for Slot<W> {
    /// The file is done: written and the head moved on, or left waiting
    /// within the budget (else its worker waits to be the head).
    fn drop(&mut self) {
        let writer = &*self.writer;
        let buf = std::mem::take(&mut self.buf);
        let state = writer.lock();
        let cap = writer.waiting_cap;
        let mut state = writer.wait_turn(state, self.position, |s| {
            s.error.is_some() || s.waiting_bytes + buf.len() <= cap
        });
        if state.next == self.position {
            state.write(&buf, writer.separator);
            state.advance(writer.separator);
            writer.turn.notify_all();
        } else {
            state.waiting_bytes += buf.len();
            state.waiting.insert(self.position, buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(writer: &OrderedWriter<Vec<u8>>) -> String {
        String::from_utf8(writer.lock().out.clone()).unwrap()
    }

    fn put(writer: &Arc<OrderedWriter<Vec<u8>>>, position: usize, items: &[&str]) {
        let mut slot = writer.slot(position);
        for item in items {
            slot.item(|buf| buf.extend_from_slice(item.as_bytes()));
        }
    }

    fn finish(writer: Arc<OrderedWriter<Vec<u8>>>) -> (String, bool) {
        let (out, wrote) = Arc::into_inner(writer).unwrap().finish().unwrap();
        (String::from_utf8(out).unwrap(), wrote)
    }

    #[test]
    fn files_are_written_in_position_order_as_soon_as_possible() {
        let writer = Arc::new(OrderedWriter::new(Vec::new(), b""));
        put(&writer, 1, &["b"]);
        assert_eq!(written(&writer), "", "1 waits for 0");
        put(&writer, 0, &["a"]);
        assert_eq!(written(&writer), "ab");
        put(&writer, 3, &["d"]);
        put(&writer, 2, &[]);
        assert_eq!(written(&writer), "abd");
        assert_eq!(finish(writer), ("abd".to_owned(), true));
    }

    #[test]
    fn finish_writes_what_waits_behind_a_missing_position() {
        let writer = Arc::new(OrderedWriter::new(Vec::new(), b""));
        put(&writer, 2, &["c"]);
        put(&writer, 0, &["a"]);
        assert_eq!(finish(writer).0, "ac");
    }

    #[test]
    fn the_head_streams_while_it_is_read() {
        let writer = Arc::new(OrderedWriter::new(Vec::new(), b""));
        let mut slot = writer.slot(0);
        let item = "x".repeat(1024);
        for _ in 0..(HAND_OVER / 1024 + 1) {
            slot.item(|buf| buf.extend_from_slice(item.as_bytes()));
        }
        assert!(
            written(&writer).len() >= HAND_OVER,
            "written before the file is done"
        );
        drop(slot);
        assert_eq!(finish(writer).0.len(), HAND_OVER + 1024);
    }

    #[test]
    fn a_file_past_its_share_waits_for_the_head() {
        // Tiny limits: 8 bytes per slot, 8 waiting.
        let writer = Arc::new(OrderedWriter::with_limits(Vec::new(), b",", 8, 8));
        std::thread::scope(|scope| {
            let ahead = Arc::clone(&writer);
            let later = scope.spawn(move || {
                let mut slot = ahead.slot(1);
                for i in 0..20_000 {
                    slot.item(|buf| buf.extend_from_slice(format!("b{i}").as_bytes()));
                }
            });
            // The later file cannot finish (nor buffer everything) first.
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(!later.is_finished(), "back-pressure holds the later file");
            assert!(writer.lock().waiting.is_empty());
            put(&writer, 0, &["a"]);
            later.join().unwrap();
        });
        let (out, _) = finish(writer);
        let expected: Vec<String> = std::iter::once("a".to_owned())
            .chain((0..20_000).map(|i| format!("b{i}")))
            .collect();
        assert_eq!(out, expected.join(","));
    }

    #[test]
    fn workers_on_many_threads_keep_the_order() {
        let writer = Arc::new(OrderedWriter::with_limits(Vec::new(), b"", 16, 64));
        std::thread::scope(|scope| {
            for worker in 0..4 {
                let writer = &writer;
                scope.spawn(move || {
                    for position in (worker..100).step_by(4) {
                        let items: Vec<String> = (0..position % 7)
                            .map(|i| format!("{position}.{i},"))
                            .collect();
                        let items: Vec<&str> = items.iter().map(String::as_str).collect();
                        put(writer, position, &items);
                    }
                });
            }
        });
        let expected: String = (0..100)
            .flat_map(|p| (0..p % 7).map(move |i| format!("{p}.{i},")))
            .collect();
        assert_eq!(finish(writer).0, expected);
    }

    #[test]
    fn the_separator_goes_between_items_only() {
        let writer = Arc::new(OrderedWriter::new(Vec::new(), b","));
        put(&writer, 0, &[]);
        put(&writer, 2, &["b", "c"]);
        put(&writer, 1, &["a"]);
        put(&writer, 3, &[]);
        put(&writer, 4, &["d"]);
        assert_eq!(finish(writer), ("a,b,c,d".to_owned(), true));
        let empty = Arc::new(OrderedWriter::new(Vec::new(), b","));
        put(&empty, 0, &[]);
        assert_eq!(finish(empty), (String::new(), false));
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
        let writer = Arc::new(OrderedWriter::new(Broken, b""));
        for position in [1, 0] {
            let mut slot = writer.slot(position);
            slot.item(|buf| buf.push(b'a'));
        }
        let err = Arc::into_inner(writer).unwrap().finish().err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }
}
