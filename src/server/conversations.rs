//! Chatbot conversations held in memory: turns posted one at a time, forgotten after a TTL without a new
//! turn. Holds at most `max_conversations`; when full, the least recently used one is dropped.

use crate::analysis::{Turn, MAX_TEXT_CHARS};
use crate::server::error::ApiError;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Longest conversation id, in bytes.
pub const MAX_ID_BYTES: usize = 128;

struct Conversation {
    turns: Vec<Turn>,
    touched: Instant,
}

pub struct Conversations {
    map: Mutex<HashMap<String, Conversation>>,
    ttl: Duration,
    max_turns: usize,
    max_conversations: usize,
}

impl Conversations {
    pub fn new(ttl: Duration, max_turns: usize, max_conversations: usize) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            ttl,
            max_turns: max_turns.max(1),
            max_conversations: max_conversations.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Conversation>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Checks and appends a turn; returns every turn so far (the new one last).
    pub fn push(&self, id: &str, turn: Turn) -> Result<Vec<Turn>, ApiError> {
        if id.is_empty() || id.len() > MAX_ID_BYTES {
            return Err(ApiError::InvalidRequest(format!(
                "conversation id must have 1 to {MAX_ID_BYTES} bytes"
            )));
        }
        if turn.speaker != "customer" && turn.speaker != "agent" {
            return Err(ApiError::BadSpeaker(
                "speaker must be \"customer\" or \"agent\"".into(),
            ));
        }
        if turn.text.trim().is_empty() {
            return Err(ApiError::EmptyText);
        }
        let n = turn.text.chars().count();
        if n > MAX_TEXT_CHARS {
            return Err(ApiError::TextTooLong(format!(
                "text has {n} characters; the limit is {MAX_TEXT_CHARS}"
            )));
        }
        let now = Instant::now();
        let mut map = self.lock();
        let expired = map
            .get(id)
            .is_some_and(|c| now.duration_since(c.touched) > self.ttl);
        if expired {
            map.remove(id);
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
        if conv.turns.len() >= self.max_turns {
            return Err(ApiError::ConversationFull {
                limit: self.max_turns,
            });
        }
        conv.turns.push(turn);
        conv.touched = now;
        Ok(conv.turns.clone())
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

    #[test]
    fn turns_accumulate_expire_and_are_bounded() {
        let c = Conversations::new(Duration::from_millis(50), 2, 2);
        assert_eq!(c.push("a", turn("customer", "你好")).unwrap().len(), 1);
        assert_eq!(c.push("a", turn("agent", "您好")).unwrap().len(), 2);
        assert!(matches!(
            c.push("a", turn("customer", "还在吗")),
            Err(ApiError::ConversationFull { limit: 2 })
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
        c.push("c", turn("customer", "在吗")).unwrap();
        assert_eq!(c.len(), 2, "the least recently used one is dropped");
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(c.sweep(), 0);
        assert!(!c.remove("b"));
    }
}
