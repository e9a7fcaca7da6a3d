//! Unit tests of chunking: limits, escaping, and bodies that are valid batchsendmsg requests.

use super::*;
use tim_model::MsgBody;
use tim_model::api::decode_request;

fn chunks_of(ids: impl Iterator<Item = String>, text: &str) -> Vec<Chunk> {
    let mut message = BatchSendMsgRequest::new(Vec::new(), MsgBody::text(text));
    message.from_account = Some(UserId::new("sender").unwrap());
    message.msg_life_time = Some(0);
    let template = message.batch_template().unwrap();
    let tail = Bytes::from(template.tail);
    let keys: Arc<[Box<[u8]>]> = template.key_prefixes.into();
    let mut chunker = Chunker::new(&FanoutOptions::default(), &tail, &keys);
    let mut chunks = Vec::new();
    for id in ids {
        chunker.push(&id, 0, None, &mut chunks);
    }
    chunks.extend(chunker.flush());
    chunks
}

fn check(chunk: &Chunk) -> BatchSendMsgRequest {
    assert!(chunk.body.len() <= MAX_MSG_BYTES, "{} bytes", chunk.body.len());
    let request: BatchSendMsgRequest = decode_request(&chunk.body).expect("a chunk's body is a valid batchsendmsg");
    let listed: Vec<String> = request.to_account.iter().map(|id| id.as_str().to_owned()).collect();
    let recovered: Vec<String> = chunk.recipients().map(|(id, _)| id.into_owned()).collect();
    assert_eq!(listed, recovered, "recipients are recovered from the body as sent");
    request
}

#[test]
fn short_ids_fill_chunks_of_five_hundred() {
    let chunks = chunks_of((0..1234).map(|i| format!("u{i}")), "hello");
    let sizes: Vec<usize> = chunks.iter().map(Chunk::len).collect();
    assert_eq!(sizes, [500, 500, 234]);
    for chunk in &chunks {
        let request = check(chunk);
        assert_eq!(request.from_account.as_ref().map(UserId::as_str), Some("sender"));
        assert!(request.msg_random.is_some() && request.msg_seq.is_some(), "both keys are pinned in every chunk");
    }
    let seqs: std::collections::BTreeSet<Option<u32>> = chunks.iter().map(|c| check(c).msg_seq).collect();
    assert_eq!(seqs.len(), chunks.len(), "each chunk draws its own MsgSeq");
}

#[test]
fn long_ids_and_long_text_split_by_bytes_and_stay_under_the_limit() {
    let text = "x".repeat(3000);
    let chunks = chunks_of((0..2000).map(|i| format!("{i:0>32}")), &text);
    assert!(chunks.iter().all(|c| c.len() < 500), "bytes, not the count, limit these chunks");
    assert_eq!(chunks.iter().map(Chunk::len).sum::<usize>(), 2000);
    for chunk in &chunks {
        check(chunk);
    }
    // Tight packing: one more 34-byte recipient would not have fitted (the keys may be shorter than 10 digits).
    let first = &chunks[0];
    assert!(first.body.len() + 35 > MAX_MSG_BYTES - 2 * MAX_RANDOM_DIGITS, "{}", first.body.len());
}

#[test]
fn ids_that_need_json_escapes_are_written_and_recovered_exactly() {
    let ids: Vec<String> = (0..600).map(|i| format!("q\"{i}\\\u{1}é")).collect();
    let chunks = chunks_of(ids.clone().into_iter(), "t");
    let mut recovered = Vec::new();
    for chunk in &chunks {
        check(chunk);
        recovered.extend(chunk.recipients().map(|(id, _)| id.into_owned()));
    }
    assert_eq!(recovered, ids);
}
