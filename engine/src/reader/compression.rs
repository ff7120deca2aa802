//! The byte source under the reader: gzip or plain, counted, with decoder
//! errors told apart from I/O errors.

use std::io::{self, Chain, Cursor, Read, Take};
use std::time::Instant;

use flate2::read::MultiGzDecoder;

use super::detect::{Compression, detect_compression};

/// Why the input stopped delivering bytes.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The object could not be read.
    Io(io::Error),
    /// The gzip stream ended before its trailer.
    TruncatedGzip,
    /// The gzip stream is damaged.
    CorruptGzip(String),
    /// The text runs past this many uncompressed bytes.
    TooManyBytes(u64),
    /// The deadline passed before the text ended.
    Deadline,
}

/// Uncompressed bytes of one object, with byte counts and a sticky end.
pub(crate) struct Input<R: Read> {
    decoder: Decoder<R>,
    uncompressed: u64,
    done: bool,
    /// A failure met while some bytes were still being delivered: it is
    /// reported on the next read, once those bytes have been used.
    deferred: Option<Failure>,
    /// Most uncompressed bytes delivered before [`Failure::TooManyBytes`].
    max_uncompressed: u64,
    /// When reads stop with [`Failure::Deadline`].
    deadline: Option<Instant>,
}

/// The object's bytes, with the two peeked magic bytes put back in front.
type Source<R> = Chain<Take<Cursor<[u8; 2]>>, Counted<R>>;

enum Decoder<R: Read> {
    Plain(Source<R>),
    /// Boxed: the decoder state is large, and there is one per file.
    Gzip(Box<MultiGzDecoder<Source<R>>>),
}

impl<R: Read> Input<R> {
    /// Peeks at the first two bytes of `object` to choose the decoder.
    pub(crate) fn open(object: R) -> Result<(Self, Compression), Failure> {
        let mut counted = Counted {
            inner: object,
            count: 0,
            failed: false,
        };
        let mut magic = [0u8; 2];
        let mut seen = 0;
        while seen < magic.len() {
            match counted.read(magic.get_mut(seen..).unwrap_or_default()) {
                Ok(0) => break,
                Ok(n) => seen += n,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(Failure::Io(error)),
            }
        }
        let head = magic.get(..seen).unwrap_or_default();
        let compression = detect_compression(head);
        let source = Cursor::new(magic).take(seen as u64).chain(counted);
        let decoder = match compression {
            Compression::Gzip => Decoder::Gzip(Box::new(MultiGzDecoder::new(source))),
            Compression::Plain => Decoder::Plain(source),
        };
        let input = Input {
            decoder,
            uncompressed: 0,
            done: false,
            deferred: None,
            max_uncompressed: u64::MAX,
            deadline: None,
        };
        Ok((input, compression))
    }

    /// Stops reads past `max_uncompressed` bytes, or once `deadline` passes.
    pub(crate) fn bounded(mut self, max_uncompressed: u64, deadline: Option<Instant>) -> Self {
        self.max_uncompressed = max_uncompressed;
        self.deadline = deadline;
        self
    }

    /// Reads until `buf` is full or the input ends; returns the bytes read.
    /// A failure after some bytes is held back until the next call.
    pub(crate) fn fill(&mut self, buf: &mut [u8]) -> Result<usize, Failure> {
        if let Some(failure) = self.deferred.take() {
            return Err(failure);
        }
        // Checked once per fill (a window's worth of text), so a file of
        // blanks or of tiny records is stopped as surely as one large record.
        if self
            .deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
        {
            return Err(Failure::Deadline);
        }
        let mut filled = 0;
        while filled < buf.len() && !self.done {
            let result = self.read_once(buf.get_mut(filled..).unwrap_or_default());
            match result {
                Ok(0) => self.done = true,
                Ok(n) => filled += n,
                Err(failure) if filled > 0 => {
                    self.deferred = Some(failure);
                    break;
                }
                Err(failure) => return Err(failure),
            }
        }
        self.uncompressed += filled as u64;
        if self.uncompressed > self.max_uncompressed {
            return Err(Failure::TooManyBytes(self.max_uncompressed));
        }
        Ok(filled)
    }

    fn read_once(&mut self, buf: &mut [u8]) -> Result<usize, Failure> {
        loop {
            let result = match &mut self.decoder {
                Decoder::Plain(source) => source.read(buf),
                Decoder::Gzip(gzip) => gzip.read(buf),
            };
            match result {
                Ok(n) => return Ok(n),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(self.classify(error)),
            }
        }
    }

    /// Tells a failure of the object itself from one of the gzip decoder.
    fn classify(&self, error: io::Error) -> Failure {
        match &self.decoder {
            Decoder::Gzip(gzip) if !gzip.get_ref().get_ref().1.failed => {
                if error.kind() == io::ErrorKind::UnexpectedEof {
                    Failure::TruncatedGzip
                } else {
                    Failure::CorruptGzip(error.to_string())
                }
            }
            _ => Failure::Io(error),
        }
    }

    /// Whether every byte has been delivered (the decoder reported its end).
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// Whether another read could deliver bytes (not ended, no failure pending).
    pub(crate) fn can_read(&self) -> bool {
        !self.done && self.deferred.is_none()
    }

    /// Bytes read from the object itself.
    pub(crate) fn compressed_bytes(&self) -> u64 {
        let source = match &self.decoder {
            Decoder::Plain(source) => source,
            Decoder::Gzip(gzip) => gzip.get_ref(),
        };
        source.get_ref().1.count
    }

    /// Bytes delivered after decompression.
    pub(crate) fn uncompressed_bytes(&self) -> u64 {
        self.uncompressed
    }
}

/// Counts the bytes read from the object and notes whether it failed.
pub(crate) struct Counted<R> {
    inner: R,
    count: u64,
    failed: bool,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = self.inner.read(buf);
        match &result {
            Ok(n) => self.count += *n as u64,
            Err(error) => self.failed |= error.kind() != io::ErrorKind::Interrupted,
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression as Level;
    use flate2::write::GzEncoder;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Level::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn read_all(object: &[u8]) -> (Vec<u8>, Option<Failure>, u64) {
        let (mut input, _) = Input::open(object).unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 7];
        loop {
            match input.fill(&mut buf) {
                Ok(0) => return (out, None, input.compressed_bytes()),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(failure) => return (out, Some(failure), input.compressed_bytes()),
            }
        }
    }

    #[test]
    fn plain_and_multi_member_gzip_are_decoded_and_counted() {
        let text = b"{\"Records\":[]}";
        let (out, failure, compressed) = read_all(text);
        assert_eq!((out.as_slice(), compressed), (&text[..], text.len() as u64));
        assert!(failure.is_none());

        let mut two = gzip(b"{\"Records\":");
        two.extend_from_slice(&gzip(b"[]}"));
        let (mut input, compression) = Input::open(two.as_slice()).unwrap();
        assert_eq!(compression, Compression::Gzip);
        let mut buf = vec![0u8; 64];
        let n = input.fill(&mut buf).unwrap();
        assert_eq!(&buf[..n], text);
        assert!(input.is_done());
        assert_eq!(input.compressed_bytes(), two.len() as u64);
        assert_eq!(input.uncompressed_bytes(), text.len() as u64);
    }

    #[test]
    fn truncated_gzip_delivers_what_it_has_then_fails() {
        let text = vec![b'x'; 100_000];
        let whole = gzip(&text);
        let cut = &whole[..whole.len() - 4];
        let (out, failure, _) = read_all(cut);
        assert_eq!(out, text, "all data precedes the missing trailer");
        assert!(matches!(failure, Some(Failure::TruncatedGzip)));
    }

    #[test]
    fn damaged_gzip_is_corrupt() {
        let mut whole = gzip(&vec![b'y'; 1000]);
        let last = whole.len() - 1;
        whole[last] ^= 0xff;
        let (_, failure, _) = read_all(&whole);
        assert!(
            matches!(failure, Some(Failure::CorruptGzip(_))),
            "{failure:?}"
        );
    }

    #[test]
    fn reads_stop_past_the_byte_cap_and_the_deadline() {
        let text = vec![b' '; 1000];
        let (input, _) = Input::open(text.as_slice()).unwrap();
        let mut input = input.bounded(600, None);
        assert_eq!(input.fill(&mut [0u8; 500]).unwrap(), 500);
        let failure = input.fill(&mut [0u8; 500]).unwrap_err();
        assert!(matches!(failure, Failure::TooManyBytes(600)), "{failure:?}");

        let (input, _) = Input::open(text.as_slice()).unwrap();
        let mut input = input.bounded(u64::MAX, Some(Instant::now()));
        let failure = input.fill(&mut [0u8; 10]).unwrap_err();
        assert!(matches!(failure, Failure::Deadline), "{failure:?}");
    }

    struct Broken;

    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection reset",
            ))
        }
    }

    #[test]
    fn object_failures_are_io_even_under_gzip() {
        let head = gzip(b"{}");
        let object = head[..10].chain(Broken);
        let (mut input, compression) = Input::open(object).unwrap();
        assert_eq!(compression, Compression::Gzip);
        let failure = input.fill(&mut [0u8; 16]).unwrap_err();
        assert!(matches!(failure, Failure::Io(_)), "{failure:?}");
    }
}
