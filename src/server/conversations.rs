//! Chatbot conversations held in memory: turns posted one at a time, forgotten after a TTL without a new
//! turn. Holds at most `max_conversations`; when full, the least recently used one is dropped.

use crate::analysis::{conversation_chars, Turn, MAX_TEXT_CHARS};
use crate::server::error::ApiError;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Longest conversation id, in bytes.
pub const MAX_ID_BYTES: usize = 128;

/// A conversation id: 1 to [`MAX_ID_BYTES`] bytes, no control characters (it appears in logs and replies).
fn check_id(id: &str) -> Result<(), ApiError> {
    if id.is_empty() || id.len() > MAX_ID_BYTES {
        return Err(ApiError::InvalidRequest(format!(
            "conversation id must have 1 to {MAX_ID_BYTES} bytes"
        )));
    }
    if id.chars().any(char::is_control) {
        return Err(ApiError::InvalidRequest(
            "conversation id must not contain control characters".into(),
        ));
    }
    Ok(())
}

struct Conversation {
    turns: Vec<Turn>,
    touched: Instant,
}

pub struct Conversations {
    map: Mutex<HashMap<String, Conversation>>,
    ttl: Duration,
    max_turns: usize,
    /// Most characters in all turns of one conversation (each new turn re-analyzes all of them).
    max_chars: usize,
    max_conversations: usize,
}

impl Conversations {
    pub fn new(
        ttl: Duration,
        max_turns: usize,
        max_chars: usize,
        max_conversations: usize,
    ) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            ttl,
            max_turns: max_turns.max(1),
            max_chars: max_chars.max(1),
            max_conversations: max_conversations.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Conversation>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Checks a turn and returns the turns the conversation would have with it (the new one last) — without
    /// storing it. [`Conversations::commit`] stores it once its analysis has succeeded, so a request that fails
    /// or times out (and its retry) leaves the conversation as it was.
    pub fn prepare(&self, id: &str, turn: Turn) -> Result<Vec<Turn>, ApiError> {
        check_id(id)?;
        if turn.speaker != "customer" && turn.speaker != "agent" {
            return Err(ApiError::BadSpeaker(
                "speaker must be \"customer\" or \"agent\"".into(),
            ));
        }
        if crate::text::normalize::is_blank(&turn.text) {
            return Err(ApiError::EmptyText);
        }
        let n = turn.text.chars().count();
        if n > MAX_TEXT_CHARS {
            return Err(ApiError::TextTooLong(format!(
                "text has {n} characters; the limit is {MAX_TEXT_CHARS}"
            )));
        }
        let mut turns = self
            .live(&mut self.lock(), id, Instant::now())
            .map(|c| c.turns.clone())
            .unwrap_or_default();
        if turns.len() >= self.max_turns {
            return Err(ApiError::ConversationFull(format!(
                "conversation has {} turns, the most one conversation may have \
                 (--conversation-max-turns); start a new one",
                self.max_turns
            )));
        }
        turns.push(turn);
        // Every turn re-analyzes the whole conversation: the work of one request, capped the same way.
        let chars = conversation_chars(&turns);
        if chars > self.max_chars {
            return Err(ApiError::ConversationFull(format!(
                "with this turn the model would read {chars} characters of this conversation (the \
                 customer's turns count twice); the limit is {} (--max-request-chars); start a new one",
                self.max_chars
            )));
        }
        Ok(turns)
    }

    /// Stores the last of `turns` (from [`Conversations::prepare`]) — unless another turn was stored in
    /// the meantime, which would put this one's analysis out of date: then 409, and nothing is stored.
    pub fn commit(&self, id: &str, mut turns: Vec<Turn>) -> Result<(), ApiError> {
        let now = Instant::now();
        let mut map = self.lock();
        // Only the count is needed here: no copy of the turns under the lock.
        let before = self.live(&mut map, id, now).map_or(0, |c| c.turns.len());
        if before + 1 != turns.len() {
            return Err(ApiError::ConversationChanged(format!(
                "conversation {id} changed while this turn was analyzed (it has {} turns now); post the \
                 turn again",
                before
            )));
        }
        if !map.contains_key(id) && map.len() >= self.max_conversations {
            let oldest = map
                .iter()
                .min_by_key(|(_, c)| c.touched)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                map.remove(&k);
            }
        }
        let conv = map.entry(id.to_string()).or_insert_with(|| Conversation {
            turns: Vec::new(),
            touched: now,
        });
        conv.turns
            .push(turns.pop().expect("prepared turns end with the new one"));
        conv.touched = now;
        Ok(())
    }

    /// The conversation, unless it is unknown or has expired (an expired one is dropped).
    fn live<'m>(
        &self,
        map: &'m mut HashMap<String, Conversation>,
        id: &str,
        now: Instant,
    ) -> Option<&'m Conversation> {
        let expired = map
            .get(id)
            .is_some_and(|c| now.duration_since(c.touched) > self.ttl);
        if expired {
            map.remove(id);
        }
        map.get(id)
    }

    /// Forgets a conversation; false when it was not there.
    pub fn remove(&self, id: &str) -> bool {
        self.lock().remove(id).is_some()
    }

    /// Drops conversations idle for longer than the TTL; returns how many remain.
    pub fn sweep(&self) -> usize {
        let now = Instant::now();
        let mut map = self.lock();
        map.retain(|_, c| now.duration_since(c.touched) <= self.ttl);
        map.len()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(s: &str, t: &str) -> Turn {
        Turn {
            speaker: s.into(),
            text: t.into(),
        }
    }

    impl Conversations {
        fn push(&self, id: &str, t: Turn) -> Result<Vec<Turn>, ApiError> {
            let turns = self.prepare(id, t)?;
            self.commit(id, turns.clone())?;
            Ok(turns)
        }
    }

    #[test]
    fn a_turn_is_stored_only_when_committed_and_only_onto_what_it_read() {
        let c = Conversations::new(Duration::from_secs(60), 10, 100, 10);
        c.push("a", turn("customer", "你好")).unwrap();
        // Prepared but never committed (its analysis failed or timed out): not stored.
        assert_eq!(c.prepare("a", turn("customer", "在吗")).unwrap().len(), 2);
        assert_eq!(c.prepare("a", turn("customer", "在吗")).unwrap().len(), 2);
        // Two turns read the same conversation; the second to finish is out of date.
        let first = c.prepare("a", turn("customer", "第一")).unwrap();
        let second = c.prepare("a", turn("agent", "第二")).unwrap();
        c.commit("a", first).unwrap();
        assert!(matches!(
            c.commit("a", second),
            Err(ApiError::ConversationChanged(_))
        ));
        assert_eq!(c.prepare("a", turn("agent", "x")).unwrap().len(), 3);
        for bad in ["", "a\nb", "a\u{0}b", &"x".repeat(MAX_ID_BYTES + 1)] {
            assert!(matches!(
                c.prepare(bad, turn("customer", "在吗")),
                Err(ApiError::InvalidRequest(_))
            ));
        }
        assert!(matches!(
            c.prepare("a", turn("customer", "\u{200B}\u{FEFF}")),
            Err(ApiError::EmptyText)
        ));
    }

    #[test]
    fn turns_accumulate_expire_and_are_bounded() {
        let c = Conversations::new(Duration::from_millis(50), 2, 10, 2);
        assert_eq!(c.push("a", turn("customer", "你好")).unwrap().len(), 1);
        assert_eq!(c.push("a", turn("agent", "您好")).unwrap().len(), 2);
        assert!(matches!(
            c.push("a", turn("customer", "还在吗")),
            Err(ApiError::ConversationFull(ref m)) if m.contains("2 turns")
        ));
        assert!(matches!(
            c.push("b", turn("bot", "x")),
            Err(ApiError::BadSpeaker(_))
        ));
        assert!(matches!(
            c.push("b", turn("customer", "  ")),
            Err(ApiError::EmptyText)
        ));
        c.push("b", turn("customer", "在吗")).unwrap();
        // 2 customer characters (counted twice) + 7 agent ones: over the limit of 10, within the turns.
        assert!(matches!(
            c.push("b", turn("agent", "一二三四五六七")),
            Err(ApiError::ConversationFull(ref m)) if m.contains("11 characters")
        ));
        c.push("c", turn("customer", "在吗")).unwrap();
        assert_eq!(c.len(), 2, "the least recently used one is dropped");
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(c.sweep(), 0);
        assert!(!c.remove("b"));
    }
}
