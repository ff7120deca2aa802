//! Reading an async body (an S3 `GetObject` stream) with the blocking reader.

use std::io::Read;

use tokio::io::AsyncRead;
use tokio_util::io::SyncIoBridge;

/// Wraps an async byte stream (such as
/// `GetObjectOutput::body.into_async_read()`) as a blocking [`Read`] for
/// [`RecordReader`](super::RecordReader).
///
/// Call it on a Tokio runtime, and read from the result only inside
/// [`tokio::task::spawn_blocking`]: each read blocks its thread until the
/// stream delivers, which would stall an async worker.
///
/// ```no_run
/// # async fn demo(body: impl tokio::io::AsyncRead + Send + Unpin + 'static) -> Result<u64, Box<dyn std::error::Error + Send + Sync>> {
/// use trailguard_engine::{RecordReader, reader::blocking_reader};
///
/// let body = blocking_reader(body);
/// let count = tokio::task::spawn_blocking(move || {
///     let mut records = RecordReader::new(body, "s3://bucket/key")?;
///     while let Some(record) = records.next_record() {
///         if let Err(error) = record {
///             if error.is_fatal() {
///                 return Err(error);
///             }
///         }
///     }
///     Ok(records.stats().records)
/// })
/// .await??;
/// # Ok(count) }
/// ```
///
/// # Panics
///
/// Outside a Tokio runtime, as there is no runtime for the reads to run on.
pub fn blocking_reader(body: impl AsyncRead + Send + Unpin + 'static) -> impl Read + Send {
    SyncIoBridge::new(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bytes_arrive_through_a_blocking_task() {
        let (mut writer, reader) = tokio::io::duplex(64);
        let body = blocking_reader(reader);
        let reading = tokio::task::spawn_blocking(move || {
            let mut body = body;
            let mut text = String::new();
            body.read_to_string(&mut text).map(|_| text)
        });
        tokio::io::AsyncWriteExt::write_all(&mut writer, b"{\"Records\":[]}")
            .await
            .unwrap();
        drop(writer);
        assert_eq!(reading.await.unwrap().unwrap(), "{\"Records\":[]}");
    }
}
