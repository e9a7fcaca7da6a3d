//! Reading a recipients file for a fan-out (`tim fanout`, a job): in blocks, split in place, every line handed to the fan-out engine
//! as bytes (so a line that is not UTF-8 is reported, not the end of the input), and no line costs more than
//! [`MAX_LINE_BYTES`] of memory: a longer one is skipped through to its end and handed over as its start only,
//! with its real length, to be reported as invalid. A read error ends the input and is kept for the report.

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use std::sync::{Arc, Mutex};
use tim_transport::fanout::{InputLine, MAX_LINE_BYTES};
use tokio::io::{AsyncRead, AsyncReadExt as _};

/// How much is read at a time.
const BLOCK: usize = 64 * 1024;

/// How much of an over-long line is kept for the report.
const KEPT: usize = 64;

/// One line of the file: its bytes (with its line ending, which the engine strips), or the start of a line that
/// was too long and how long it was.
#[derive(Debug)]
pub struct RecipientLine {
    bytes: Bytes,
    cut_from: Option<u64>,
}

impl InputLine for RecipientLine {
    fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn cut_from(&self) -> Option<u64> {
        self.cut_from
    }
}

/// Where a read error is kept for the report.
pub type ReadError = Arc<Mutex<Option<String>>>;

struct Reader<R> {
    reader: R,
    buffer: BytesMut,
    /// Bytes of the buffer already searched for a line feed.
    searched: usize,
    /// A line over the limit being skipped: its start and its length so far.
    skipping: Option<(Bytes, u64)>,
    done: bool,
    error: ReadError,
    name: String,
}

/// The lines of `reader` (named `name` in errors) as a stream.
pub fn lines<R: AsyncRead + Unpin + Send + 'static>(
    reader: R,
    name: String,
    error: ReadError,
) -> impl Stream<Item = RecipientLine> + Unpin + Send {
    let state = Reader {
        reader,
        buffer: BytesMut::with_capacity(BLOCK),
        searched: 0,
        skipping: None,
        done: false,
        error,
        name,
    };
    Box::pin(futures_util::stream::unfold(state, |mut state| async move {
        let line = state.next_line().await?;
        Some((line, state))
    }))
}

impl<R: AsyncRead + Unpin> Reader<R> {
    async fn next_line(&mut self) -> Option<RecipientLine> {
        loop {
            let found = memchr::memchr(b'\n', &self.buffer[self.searched..]).map(|i| self.searched + i);
            match (found, self.skipping.take()) {
                (Some(end), Some((start, length))) => {
                    let _ = self.buffer.split_to(end + 1);
                    self.searched = 0;
                    return Some(cut(start, length + end as u64));
                }
                (Some(end), None) => {
                    self.searched = 0;
                    let line = self.buffer.split_to(end + 1).freeze();
                    if end > MAX_LINE_BYTES {
                        return Some(cut(line.slice(..KEPT), end as u64));
                    }
                    return Some(RecipientLine { bytes: line, cut_from: None });
                }
                (None, Some((start, length))) => {
                    // Still inside the long line: drop what was read of it.
                    let length = length + self.buffer.len() as u64;
                    self.buffer.clear();
                    self.searched = 0;
                    self.skipping = Some((start, length));
                }
                (None, None) if self.buffer.len() > MAX_LINE_BYTES => {
                    let start = Bytes::copy_from_slice(&self.buffer[..KEPT]);
                    self.skipping = Some((start, self.buffer.len() as u64));
                    self.buffer.clear();
                    self.searched = 0;
                }
                (None, None) => self.searched = self.buffer.len(),
            }
            if self.done {
                // The last line has no line feed.
                if let Some((start, length)) = self.skipping.take() {
                    return Some(cut(start, length));
                }
                if self.buffer.is_empty() {
                    return None;
                }
                self.searched = 0;
                let line = self.buffer.split().freeze();
                return Some(RecipientLine { bytes: line, cut_from: None });
            }
            self.buffer.reserve(BLOCK);
            match self.reader.read_buf(&mut self.buffer).await {
                Ok(0) => self.done = true,
                Ok(_) => {}
                Err(error) => {
                    let text = format!("cannot read {}: {error}", self.name);
                    *self.error.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(text);
                    // What was read before the error is still handed over; nothing after it.
                    self.done = true;
                }
            }
        }
    }
}

fn cut(start: Bytes, length: u64) -> RecipientLine {
    RecipientLine { bytes: start, cut_from: Some(length) }
}

/// How many lines a file has (a last line without a line feed counts), read in blocks.
pub async fn count_lines(path: &std::path::Path) -> std::io::Result<u64> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut block = vec![0; BLOCK];
    let (mut lines, mut last) = (0_u64, b'\n');
    loop {
        let read = file.read(&mut block).await?;
        if read == 0 {
            return Ok(lines + u64::from(last != b'\n'));
        }
        lines += memchr::memchr_iter(b'\n', &block[..read]).count() as u64;
        last = block[read - 1];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt as _;

    async fn read_all(input: Vec<u8>) -> Vec<(Vec<u8>, Option<u64>)> {
        let error = ReadError::default();
        let stream = lines(std::io::Cursor::new(input), "input".to_owned(), Arc::clone(&error));
        let read: Vec<_> = stream.map(|line| (line.bytes.to_vec(), line.cut_from)).collect().await;
        assert!(error.lock().unwrap().is_none());
        read
    }

    #[tokio::test]
    async fn lines_are_split_in_place_with_their_endings_and_a_last_line_without_one() {
        let read = read_all(b"a\r\n\nb\xff\nlast".to_vec()).await;
        let expected: Vec<(Vec<u8>, Option<u64>)> = vec![
            (b"a\r\n".to_vec(), None),
            (b"\n".to_vec(), None),
            (b"b\xff\n".to_vec(), None),
            (b"last".to_vec(), None),
        ];
        assert_eq!(read, expected);
    }

    #[tokio::test]
    async fn a_line_of_a_megabyte_costs_its_start_only_and_the_next_lines_follow() {
        let mut input = b"first\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 1_000_000));
        input.extend(b"\nafter\n");
        input.extend(std::iter::repeat_n(b'y', MAX_LINE_BYTES + 1)); // the last line, too long, no line feed
        let read = read_all(input).await;
        assert_eq!(read.len(), 4);
        assert_eq!(read[0], (b"first\n".to_vec(), None));
        assert_eq!(read[1].1, Some(1_000_000));
        assert_eq!(read[1].0, vec![b'x'; KEPT]);
        assert_eq!(read[2], (b"after\n".to_vec(), None));
        assert_eq!(read[3].1, Some(MAX_LINE_BYTES as u64 + 1));
        // A line at the limit is read whole.
        let mut exact = vec![b'z'; MAX_LINE_BYTES];
        exact.push(b'\n');
        assert_eq!(read_all(exact).await[0].1, None);
    }

    #[tokio::test]
    async fn a_read_error_ends_the_input_and_is_kept() {
        struct Failing(bool);
        impl AsyncRead for Failing {
            fn poll_read(
                mut self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                if self.0 {
                    return std::task::Poll::Ready(Err(std::io::Error::other("disk on fire")));
                }
                self.0 = true;
                buf.put_slice(b"one\ntwo\nthr");
                std::task::Poll::Ready(Ok(()))
            }
        }
        let error = ReadError::default();
        let stream = lines(Failing(false), "recipients.txt".to_owned(), Arc::clone(&error));
        let read: Vec<Vec<u8>> = stream.map(|line| line.bytes.to_vec()).collect().await;
        assert_eq!(read, [b"one\n".to_vec(), b"two\n".to_vec(), b"thr".to_vec()]);
        assert_eq!(error.lock().unwrap().as_deref(), Some("cannot read recipients.txt: disk on fire"));
    }

    #[tokio::test]
    async fn lines_are_counted_as_the_engine_reads_them() {
        let dir = std::env::temp_dir().join(format!("tim-count-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("r.txt");
        for (text, count) in [("", 0), ("a", 1), ("a\n", 1), ("a\n\nb", 3)] {
            std::fs::write(&file, text).unwrap();
            assert_eq!(count_lines(&file).await.unwrap(), count, "{text:?}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
