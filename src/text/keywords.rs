//! Keyword extraction: jieba segmentation with a customer-service dictionary, ranked by TF-IDF.
//!
//! A [`KeywordExtractor`] holds a jieba segmenter (jieba's default dictionary plus the domain
//! dictionary `resources/keywords/userdict.txt`) and a TF-IDF ranker (jieba's IDF table) that
//! skips the stop words of `resources/keywords/stopwords.txt`. [`KeywordExtractor::builtin`]
//! embeds both files in the binary; [`KeywordExtractor::from_dir`] reads them from a directory.
//!
//! Keywords are the highest-ranked words that are
//! * not stop words (the list is matched case-insensitively for Latin words, and a short word
//!   made only of stop words, like `我要` or `还有`, counts as one),
//! * at least two characters long, and
//! * made of more than digits and punctuation —
//!
//! except that every entry of the domain dictionary is a keyword candidate, so that hotline
//! numbers like `12315` or `12345` (the consumer-rights and citizen hotlines, strong escalation
//! signals) survive — a number only where it stands alone in the text, not where jieba cut it
//! out of a longer digit run or a code (`订单号250312345678`). Input is expected to be
//! [normalized](super::normalize) already.
//!
//! File formats (UTF-8; blank lines and lines starting with `#` are ignored):
//! * `userdict.txt`: `word [freq] [tag]` per line, as in jieba user dictionaries. Without a
//!   frequency, jieba suggests one that makes the word segment as one token.
//! * `stopwords.txt`: one word per line.

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use jieba_rs::{Jieba, KeywordExtract, KeywordExtractConfig, TfIdf, DEFAULT_STOP_WORDS};

use super::TextError;

const USER_DICT_FILE: &str = "userdict.txt";
const STOP_WORDS_FILE: &str = "stopwords.txt";

const BUILTIN_USER_DICT: &str = include_str!("../../resources/keywords/userdict.txt");
const BUILTIN_STOP_WORDS: &str = include_str!("../../resources/keywords/stopwords.txt");

/// TF-IDF keyword extractor for customer-service text. Cheap to share: it is `Send + Sync`
/// and [`extract`](Self::extract) takes `&self`.
pub struct KeywordExtractor {
    jieba: Jieba,
    tfidf: TfIdf,
    /// Words of the domain dictionary: always acceptable as keywords.
    domain: HashSet<String>,
    stop_words: HashSet<String>,
}

impl fmt::Debug for KeywordExtractor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeywordExtractor")
            .field("domain_words", &self.domain.len())
            .field("stop_words", &self.stop_words.len())
            .finish_non_exhaustive()
    }
}

/// One entry of the user dictionary.
struct DictEntry<'a> {
    word: &'a str,
    freq: Option<usize>,
    tag: Option<&'a str>,
}

impl KeywordExtractor {
    /// The extractor with the dictionary and stop words embedded in the binary
    /// (`resources/keywords/`).
    pub fn builtin() -> Self {
        Self::from_sources(
            BUILTIN_USER_DICT,
            Path::new("resources/keywords").join(USER_DICT_FILE),
            BUILTIN_STOP_WORDS,
            Path::new("resources/keywords").join(STOP_WORDS_FILE),
        )
        .expect("the embedded keyword resources are well-formed (checked by tests)")
    }

    /// Reads `userdict.txt` and `stopwords.txt` from `dir`. Errors name the file and, for a
    /// malformed line, its 1-based line number.
    pub fn from_dir(dir: &Path) -> Result<Self, TextError> {
        let read = |name: &str| {
            let path = dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(text) => Ok((text, path)),
                Err(source) => Err(TextError::Io { path, source }),
            }
        };
        let (dict, dict_path) = read(USER_DICT_FILE)?;
        let (stops, stops_path) = read(STOP_WORDS_FILE)?;
        Self::from_sources(&dict, dict_path, &stops, stops_path)
    }

    fn from_sources(
        user_dict: &str,
        dict_path: PathBuf,
        stop_words: &str,
        stops_path: PathBuf,
    ) -> Result<Self, TextError> {
        let entries = parse_user_dict(user_dict, &dict_path)?;
        let stop_words = parse_stop_words(stop_words, &stops_path)?;

        let mut jieba = Jieba::new();
        let mut domain = HashSet::with_capacity(entries.len());
        for entry in &entries {
            jieba.add_word(entry.word, entry.freq, entry.tag);
            domain.insert(entry.word.to_owned());
        }

        // jieba's own (English) stop words plus ours; the ranker also lower-cases Latin words
        // before looking them up.
        let mut stop_words = stop_words;
        stop_words.extend(DEFAULT_STOP_WORDS.iter().cloned());
        let all_stops: BTreeSet<String> = stop_words.iter().cloned().collect();
        let mut tfidf = TfIdf::default();
        *tfidf.config_mut() = KeywordExtractConfig::builder()
            .set_stop_words(all_stops)
            .min_keyword_length(2)
            .use_hmm(true)
            .build();

        Ok(Self {
            jieba,
            tfidf,
            domain,
            stop_words,
        })
    }

    /// Up to `top_k` keywords of `text`, best first.
    pub fn extract(&self, text: &str, top_k: usize) -> Vec<String> {
        self.extract_weighted(text, top_k)
            .into_iter()
            .map(|(word, _)| word)
            .collect()
    }

    /// Up to `top_k` keywords of `text` with their TF-IDF weights, best first (ties in
    /// alphabetical order, so the result is deterministic).
    pub fn extract_weighted(&self, text: &str, top_k: usize) -> Vec<(String, f64)> {
        if top_k == 0 || text.trim().is_empty() {
            return Vec::new();
        }
        // The ranker cannot apply our digit / punctuation rule itself: ask for a margin of
        // candidates, and for all of them if the margin was not enough.
        let margin = top_k.saturating_mul(2).saturating_add(8);
        let mut keywords = self.ranked(text, margin, top_k);
        if keywords.len() < top_k {
            keywords = self.ranked(text, usize::MAX, top_k);
        }
        keywords
    }

    fn ranked(&self, text: &str, candidates: usize, top_k: usize) -> Vec<(String, f64)> {
        self.tfidf
            .extract_keywords(&self.jieba, text, candidates, Vec::new())
            .into_iter()
            .filter(|k| self.is_keyword(&k.keyword) && stands_alone(text, &k.keyword))
            .take(top_k)
            .map(|k| (k.keyword, k.weight))
            .collect()
    }

    /// Whether `word` is a stop word: listed (Latin words case-insensitively), or a short
    /// word made only of listed stop words (`我要` = `我` + `要`, `还有`, `三次`) that is not
    /// a domain dictionary entry (`再也不` is one).
    pub fn is_stop_word(&self, word: &str) -> bool {
        self.is_listed_stop_word(word)
            || (!self.domain.contains(word) && self.is_stop_compound(word))
    }

    fn is_listed_stop_word(&self, word: &str) -> bool {
        self.stop_words.contains(word)
            || (word.bytes().any(|b| b.is_ascii_uppercase())
                && self.stop_words.contains(&word.to_lowercase()))
    }

    /// Whether `word` (at most 6 characters) splits into two or more listed stop words.
    fn is_stop_compound(&self, word: &str) -> bool {
        let bounds: Vec<usize> = word
            .char_indices()
            .map(|(i, _)| i)
            .chain([word.len()])
            .collect();
        let n = bounds.len() - 1;
        if !(2..=6).contains(&n) {
            return false;
        }
        // covered[j]: the first j characters split into stop words.
        let mut covered = vec![false; n + 1];
        covered[0] = true;
        for j in 1..=n {
            covered[j] = (0..j).any(|i| {
                covered[i]
                    && (i, j) != (0, n)
                    && self.stop_words.contains(&word[bounds[i]..bounds[j]])
            });
        }
        covered[n]
    }

    /// Whether `word` is an entry of the domain dictionary.
    pub fn is_domain_word(&self, word: &str) -> bool {
        self.domain.contains(word)
    }

    fn is_keyword(&self, word: &str) -> bool {
        if self.is_listed_stop_word(word) {
            return false;
        }
        if self.domain.contains(word) {
            return true;
        }
        word.chars().count() >= 2
            && word.chars().any(char::is_alphabetic)
            && !self.is_stop_compound(word)
    }
}

/// Whether a number keyword (a hotline of the domain dictionary, `12345`) stands alone in
/// `text` somewhere: not as a piece of a longer run of digits or of a code (jieba cuts
/// `12345` out of `250312345678`). Words that are not all digits always stand alone.
fn stands_alone(text: &str, word: &str) -> bool {
    if word.is_empty() || !word.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    let glued = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    text.match_indices(word).any(|(at, _)| {
        !glued(text[..at].chars().next_back()) && !glued(text[at + word.len()..].chars().next())
    })
}

fn parse_user_dict<'a>(text: &'a str, path: &Path) -> Result<Vec<DictEntry<'a>>, TextError> {
    let mut entries = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let error = |message: String| TextError::Parse {
            path: path.to_path_buf(),
            line: index + 1,
            message,
        };
        let mut fields = line.split_whitespace();
        let word = fields.next().unwrap_or_default();
        let mut freq = None;
        let mut tag = None;
        if let Some(field) = fields.next() {
            match field.parse::<usize>() {
                Ok(f) => freq = Some(f),
                // `word tag` is accepted too: a tag is never a number.
                Err(_) if field.chars().all(|c| c.is_ascii_alphabetic()) => tag = Some(field),
                Err(_) => {
                    return Err(error(format!(
                        "frequency `{field}` of `{word}` is not a non-negative integer"
                    )))
                }
            }
        }
        if let Some(field) = fields.next() {
            if tag.is_some() {
                return Err(error(format!(
                    "unexpected `{field}` after the tag of `{word}`"
                )));
            }
            tag = Some(field);
        }
        if let Some(field) = fields.next() {
            return Err(error(format!(
                "unexpected `{field}`: expected `word [freq] [tag]`"
            )));
        }
        entries.push(DictEntry { word, freq, tag });
    }
    Ok(entries)
}

fn parse_stop_words(text: &str, path: &Path) -> Result<HashSet<String>, TextError> {
    let mut words = HashSet::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.contains(char::is_whitespace) {
            return Err(TextError::Parse {
                path: path.to_path_buf(),
                line: index + 1,
                message: format!("`{line}`: expected one word per line"),
            });
        }
        words.insert(line.to_owned());
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use once_cell::sync::Lazy;
    use std::sync::Arc;

    /// Building the extractor loads jieba's dictionary: share one across tests.
    static BUILTIN: Lazy<KeywordExtractor> = Lazy::new(KeywordExtractor::builtin);

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn is_send_and_sync() {
        assert_send_sync::<KeywordExtractor>();
        let shared = Arc::new(KeywordExtractor::builtin());
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let extractor = Arc::clone(&shared);
                std::thread::spawn(move || extractor.extract("宽带断网三天了，客服一直不处理", 5))
            })
            .collect();
        let results: Vec<Vec<String>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert!(results.windows(2).all(|w| w[0] == w[1]));
        assert!(results[0].contains(&"宽带".to_string()), "{:?}", results[0]);
    }

    #[test]
    fn complaint_about_service() {
        let text = "我已经打了三次电话了，等了一个星期都没人处理，客服态度还特别差";
        let keywords = BUILTIN.extract(text, 5);
        assert!(keywords.len() <= 5);
        assert!(keywords.contains(&"客服".to_string()), "{keywords:?}");
        assert!(
            keywords
                .iter()
                .any(|k| ["态度", "没人处理", "处理"].contains(&k.as_str())),
            "{keywords:?}"
        );
        assert_eq!(BUILTIN.extract(text, 5), keywords, "deterministic");
    }

    #[test]
    fn hotline_numbers_are_kept() {
        let keywords = BUILTIN.extract("我要打12315投诉你们", 5);
        assert!(keywords.contains(&"12315".to_string()), "{keywords:?}");
        assert!(keywords.contains(&"投诉".to_string()), "{keywords:?}");
        assert!(!keywords.contains(&"我要".to_string()), "{keywords:?}");
        // A number that is not a domain entry is not a keyword.
        let keywords = BUILTIN.extract("我打了10086好几次", 5);
        assert!(
            !keywords.iter().any(|k| k.contains("10086")),
            "{keywords:?}"
        );
    }

    #[test]
    fn hotline_numbers_only_when_they_stand_alone() {
        let keywords = BUILTIN.extract("拨打12345市民热线投诉", 5);
        assert!(keywords.contains(&"12345".to_string()), "{keywords:?}");
        let keywords = BUILTIN.extract("拨打 12345 投诉", 5);
        assert!(keywords.contains(&"12345".to_string()), "{keywords:?}");
        for text in [
            "订单号250312345678还没发货",
            "单号 1234567 查不到",
            "SKU12345的商品缺货",
            "我打了1231512345好几次",
        ] {
            let keywords = BUILTIN.extract(text, 10);
            assert!(
                !keywords.iter().any(|k| k == "12345" || k == "12315"),
                "{text}: {keywords:?}"
            );
        }
        assert!(stands_alone("打12345，", "12345"));
        assert!(!stands_alone("250312345678", "12345"));
        assert!(stands_alone("250312345678 再打12345", "12345"));
        assert!(stands_alone("订单", "订单"));
    }

    #[test]
    fn compound_stop_words() {
        for word in ["我要", "还有", "三次", "你们的", "我想问一下"] {
            assert!(BUILTIN.is_stop_word(word), "{word}");
        }
        for word in ["客服", "要求", "三天", "投诉", "我"] {
            assert_eq!(BUILTIN.is_stop_word(word), word == "我", "{word}");
        }
        assert!(BUILTIN.is_stop_word("The"));
        // 再 + 也 + 不 are stop words, but 再也不 is a domain entry.
        assert!(!BUILTIN.is_stop_word("再也不"));
        let keywords = BUILTIN.extract("你们这样搞，我再也不买了", 5);
        assert!(keywords.contains(&"再也不".to_string()), "{keywords:?}");
    }

    #[test]
    fn domain_words_segment_as_one_token() {
        let keywords = BUILTIN.extract("你们乱扣费，还互相推诿，我要找工信部和消费者协会", 10);
        for word in ["乱扣费", "互相推诿", "工信部", "消费者协会"] {
            assert!(
                keywords.contains(&word.to_string()),
                "{word} in {keywords:?}"
            );
        }
    }

    #[test]
    fn stop_words_digits_and_punctuation_never_appear() {
        let texts = [
            "我们的那个订单到底什么时候发货啊？？？已经等了 3 天了！！！",
            "你好，请问一下，我想问一下这个套餐怎么取消呢",
            "嗯嗯 好的 谢谢 没有了",
            "2024-03-15 下单 20 元 100% 好评 ...... ~~~",
            "OK the order is late and the service is bad",
        ];
        for text in texts {
            let keywords = BUILTIN.extract(text, 20);
            for k in &keywords {
                assert!(!BUILTIN.is_stop_word(k), "stop word {k:?} from {text:?}");
                assert!(
                    k.chars().count() >= 2,
                    "single character {k:?} from {text:?}"
                );
                assert!(
                    k.chars().any(char::is_alphabetic) || BUILTIN.is_domain_word(k),
                    "digits / punctuation {k:?} from {text:?}"
                );
            }
        }
        assert!(BUILTIN.extract("", 5).is_empty());
        assert!(BUILTIN.extract("   ", 5).is_empty());
        assert!(BUILTIN.extract("！？。，、", 5).is_empty());
        assert!(BUILTIN.extract("宽带坏了", 0).is_empty());
    }

    #[test]
    fn top_k_is_respected() {
        let text = "宽带断网三天了，报修以后没人上门，打客服电话一直占线，转人工又排队，\
                    营业厅说要等工单，我要求退费并赔偿，不然就去工信部投诉";
        for k in [1, 3, 8] {
            let keywords = BUILTIN.extract(text, k);
            assert_eq!(keywords.len(), k, "{keywords:?}");
            let unique: HashSet<&String> = keywords.iter().collect();
            assert_eq!(unique.len(), k);
        }
        let weighted = BUILTIN.extract_weighted(text, 8);
        assert!(
            weighted.windows(2).all(|w| w[0].1 >= w[1].1),
            "{weighted:?}"
        );
    }

    #[test]
    fn builtin_resources_parse() {
        let entries = parse_user_dict(BUILTIN_USER_DICT, Path::new(USER_DICT_FILE)).unwrap();
        assert!(entries.len() > 300);
        assert!(entries.iter().all(|e| !e.word.starts_with('#')));
        let stops = parse_stop_words(BUILTIN_STOP_WORDS, Path::new(STOP_WORDS_FILE)).unwrap();
        assert!(stops.contains("我们") && stops.contains("的"));
        assert!(!stops.iter().any(|w| w.starts_with('#')));
        assert!(BUILTIN.is_domain_word("12315"));
        assert!(!BUILTIN.is_domain_word("# xinsheng"));
    }

    #[test]
    fn from_dir_reads_files_and_reports_errors() {
        let dir = tempfile::tempdir().unwrap();
        // Missing files: an I/O error naming the file.
        let err = KeywordExtractor::from_dir(dir.path()).unwrap_err();
        match &err {
            TextError::Io { path, .. } => assert!(path.ends_with(USER_DICT_FILE)),
            other => panic!("unexpected {other:?}"),
        }

        std::fs::write(
            dir.path().join(USER_DICT_FILE),
            "# comment\n\n宽带猫 3000 n\n光猫重启\n装维师傅 n\n",
        )
        .unwrap();
        std::fs::write(dir.path().join(STOP_WORDS_FILE), "# comment\n宽带\n").unwrap();
        let extractor = KeywordExtractor::from_dir(dir.path()).unwrap();
        assert!(extractor.is_domain_word("装维师傅"));
        let keywords = extractor.extract("宽带猫坏了，装维师傅说要光猫重启，宽带还是不行", 10);
        assert!(keywords.contains(&"宽带猫".to_string()), "{keywords:?}");
        assert!(keywords.contains(&"光猫重启".to_string()), "{keywords:?}");
        assert!(!keywords.contains(&"宽带".to_string()), "{keywords:?}");

        // A malformed line: the error names the file and the line.
        std::fs::write(
            dir.path().join(USER_DICT_FILE),
            "# comment\n宽带猫 many n\n",
        )
        .unwrap();
        let err = KeywordExtractor::from_dir(dir.path()).unwrap_err();
        match &err {
            TextError::Parse { path, line, .. } => {
                assert!(path.ends_with(USER_DICT_FILE));
                assert_eq!(*line, 2);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().contains("userdict.txt:2"), "{err}");

        std::fs::write(dir.path().join(USER_DICT_FILE), "宽带猫 3000 n extra\n").unwrap();
        assert!(matches!(
            KeywordExtractor::from_dir(dir.path()),
            Err(TextError::Parse { line: 1, .. })
        ));

        std::fs::write(dir.path().join(USER_DICT_FILE), "宽带猫\n").unwrap();
        std::fs::write(dir.path().join(STOP_WORDS_FILE), "好的\n两个 词\n").unwrap();
        match KeywordExtractor::from_dir(dir.path()) {
            Err(TextError::Parse { path, line, .. }) => {
                assert!(path.ends_with(STOP_WORDS_FILE));
                assert_eq!(line, 2);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
