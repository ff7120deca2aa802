//! SHA-256 of CloudTrail objects as digest files record them: over the
//! *uncompressed* bytes, hex-encoded in lower case.

use std::io::{self, Read};

use aws_lc_rs::digest::{Context, SHA256};
use flate2::read::MultiGzDecoder;

/// Bytes read per step when hashing a stream: bounds memory whatever the
/// object's size.
const CHUNK: usize = 64 * 1024;

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&SHA256, bytes))
}

/// Lower-case hex SHA-256 of the uncompressed content of a gzip stream,
/// read in fixed-size chunks.
///
/// Multi-member gzip is decoded as one stream, as `zlib`'s gzip mode does.
/// A stream that is not gzip, or is cut short, fails with
/// [`io::ErrorKind::InvalidInput`], [`io::ErrorKind::InvalidData`] or
/// [`io::ErrorKind::UnexpectedEof`] (see [`is_format_error`]); any other
/// error comes from the underlying reader.
pub fn sha256_hex_of_gzip(reader: impl Read) -> io::Result<String> {
    let mut decoder = MultiGzDecoder::new(reader);
    let mut context = Context::new(&SHA256);
    let mut buffer = vec![0u8; CHUNK];
    loop {
        let read = match decoder.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        context.update(buffer.get(..read).unwrap_or_default());
    }
    Ok(hex::encode(context.finish()))
}

/// Whether an error from decoding a gzip stream means the bytes are not
/// valid gzip (as opposed to the store failing to deliver them).
pub fn is_format_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn sha256_matches_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn gzip_hash_is_over_uncompressed_bytes() {
        let content = b"{\"Records\":[]}".repeat(10_000);
        let hashed = sha256_hex_of_gzip(gzip(&content).as_slice()).unwrap();
        assert_eq!(hashed, sha256_hex(&content));
    }

    #[test]
    fn gzip_hash_reads_every_member() {
        let mut joined = gzip(b"first ");
        joined.extend(gzip(b"second"));
        let hashed = sha256_hex_of_gzip(joined.as_slice()).unwrap();
        assert_eq!(hashed, sha256_hex(b"first second"));
    }

    #[test]
    fn non_gzip_input_is_a_format_error() {
        let err = sha256_hex_of_gzip(&b"plain text, not gzip"[..]).unwrap_err();
        assert!(is_format_error(&err), "{err:?}");
    }

    #[test]
    fn truncated_gzip_is_a_format_error() {
        let whole = gzip(&b"x".repeat(4096));
        let cut = whole.get(..whole.len() / 2).unwrap();
        let err = sha256_hex_of_gzip(cut).unwrap_err();
        assert!(is_format_error(&err), "{err:?}");
    }

    #[test]
    fn reader_failures_are_not_format_errors() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"))
            }
        }
        let err = sha256_hex_of_gzip(Broken).unwrap_err();
        assert!(!is_format_error(&err));
    }
}
