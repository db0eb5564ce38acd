//! First risk rules: escalation reasons from phrase rules (with a negation and question check) and from
//! the model's scores, a priority grade A/B/C with a response limit and a route.
//!
//! Rules (a phrase must appear in a clause that is neither negated right before it — 不是要 / 不会 / 没想
//! / 不想 / 并不 / 没有要 — nor a plain question about it — the clause has 吗 / 什么 / 怎么 / 如何 / 哪 /
//! 多少 / ？ and no intent word 要 / 去 / 就 / 会 / 必须 / 一定):
//!
//! | reason | phrases (excerpt) | grade |
//! |---|---|---|
//! | `regulator_threat` | 12315, 工信部, 消协, 消费者协会, 市场监管, 银保监, 金融监管, 12345 | A |
//! | `media_threat` | 曝光, 媒体, 记者, 微博, 抖音, 发到网上 | A |
//! | `legal_threat` | 律师, 起诉, 法院, 仲裁, 打官司 | A |
//! | `safety` | 起火, 着火, 漏电, 触电, 爆炸, 冒烟, 受伤, 食物中毒, 烫伤 | A |
//! | `service_outage` | 断网, 停机, 打不开, 用不了, 无法使用, 没信号 | B (A together with negative sentiment ≥ 0.9) |
//! | `churn_threat` | 销户, 退网, 转网, 不用了, 退订, 注销, 换一家 | B |
//! | `supervisor_demand` | 找你们领导, 叫你们经理, 找你们主管, 投诉你 | B |
//! | `repeat_contact` | 第三次, 第二次, 又打, 多次, 好几次, 三番五次, 一直没人 | B |
//! | `strong_anger` | emotion `anger` ≥ 0.5, or negative ≥ 0.95 with `!`/`！` | B |
//!
//! Priority: A when an A reason fires; B when any other reason fires, the text is negative (negative
//! probability ≥ 0.5) or a complaint category is above its threshold; C otherwise. `escalate` is true for A,
//! and for B with `strong_anger`, `supervisor_demand` or `repeat_contact`. The risk score is the largest of
//! the reason weights (A 0.9, B 0.6) and 0.7 × negative + 0.3 × anger. Responses: A 15 minutes, route
//! `complaints`; B 30 minutes, `customer_service`; C 120 minutes, `inquiry`.

use serde::Serialize;

/// Evidence for one reason: the matched phrase, or the model score.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Evidence {
    pub reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phrase: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Risk {
    pub escalate: bool,
    pub priority: &'static str,
    pub score: f32,
    pub reasons: Vec<&'static str>,
    pub respond_within_minutes: u32,
    pub route: &'static str,
    pub evidence: Vec<Evidence>,
}

struct Rule {
    reason: &'static str,
    urgent: bool,
    phrases: &'static [&'static str],
}

const RULES: &[Rule] = &[
    Rule {
        reason: "regulator_threat",
        urgent: true,
        phrases: &[
            "12315",
            "12345",
            "工信部",
            "消协",
            "消费者协会",
            "市场监管",
            "工商局",
            "银保监",
            "金融监管",
            "通信管理局",
        ],
    },
    Rule {
        reason: "media_threat",
        urgent: true,
        phrases: &["曝光", "媒体", "记者", "微博", "抖音", "发到网上", "电视台"],
    },
    Rule {
        reason: "legal_threat",
        urgent: true,
        phrases: &["律师", "起诉", "法院", "仲裁", "打官司", "告你们"],
    },
    Rule {
        reason: "safety",
        urgent: true,
        phrases: &[
            "起火",
            "着火",
            "漏电",
            "触电",
            "爆炸",
            "冒烟",
            "受伤",
            "食物中毒",
            "烫伤",
            "进医院",
        ],
    },
    Rule {
        reason: "service_outage",
        urgent: false,
        phrases: &[
            "断网",
            "停机",
            "打不开",
            "用不了",
            "无法使用",
            "没信号",
            "没有信号",
            "上不了网",
        ],
    },
    Rule {
        reason: "churn_threat",
        urgent: false,
        phrases: &[
            "销户",
            "退网",
            "转网",
            "不用了",
            "退订",
            "注销",
            "换一家",
            "再也不用",
        ],
    },
    Rule {
        reason: "supervisor_demand",
        urgent: false,
        phrases: &[
            "找你们领导",
            "叫你们领导",
            "找你们经理",
            "叫你们经理",
            "找你们主管",
            "叫你们主管",
            "让你们领导",
        ],
    },
    Rule {
        reason: "repeat_contact",
        urgent: false,
        phrases: &[
            "第三次",
            "第二次",
            "第四次",
            "第五次",
            "三次",
            "又打",
            "多次",
            "好几次",
            "三番五次",
            "一直没人",
        ],
    },
];

const NEGATIONS: &[&str] = &[
    "不是要",
    "不会",
    "没想",
    "不想",
    "并不",
    "没有要",
    "不打算",
    "不用去",
];
const QUESTION: &[&str] = &["吗", "什么", "怎么", "如何", "哪", "多少", "？", "?"];
const INTENT: &[&str] = &["要", "去", "就", "会", "必须", "一定", "马上"];

fn clauses(text: &str) -> impl Iterator<Item = &str> {
    text.split(['。', '！', '!', '；', ';', '\n', '，', ','])
        .filter(|c| !c.is_empty())
}

/// Whether the phrase at byte `pos` of `clause` is negated or only asked about.
fn suppressed(clause: &str, pos: usize) -> bool {
    let before = &clause[..pos];
    let near: String = before
        .chars()
        .rev()
        .take(7)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    // "是不是要…" asks a (rhetorical) question; it does not negate.
    let near = near.replace("是不是", "");
    if NEGATIONS.iter().any(|n| near.contains(n)) {
        return true;
    }
    let question = QUESTION.iter().any(|q| clause.contains(q));
    question && !INTENT.iter().any(|w| clause.contains(w))
}

/// A number phrase (12315) only counts when it is not part of a longer digit run (a phone number).
fn standalone(clause: &str, pos: usize, phrase: &str) -> bool {
    if !phrase.starts_with(|c: char| c.is_ascii_digit()) {
        return true;
    }
    let before = clause[..pos].chars().next_back();
    let after = clause[pos + phrase.len()..].chars().next();
    !before.is_some_and(|c| c.is_ascii_digit() || c == '*')
        && !after.is_some_and(|c| c.is_ascii_digit() || c == '*')
}

/// Phrase rules over (normalized) text: each reason once, with the first matching phrase.
pub fn phrase_reasons(text: &str) -> Vec<(&'static str, bool, String)> {
    let mut out: Vec<(&'static str, bool, String)> = Vec::new();
    // A question clause keeps its '？' so the check can see it.
    let mut owned = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if matches!(c, '？' | '?') {
            owned.push(&text[start..i + c.len_utf8()]);
            start = i + c.len_utf8();
        }
    }
    owned.push(&text[start..]);
    for part in owned {
        for clause in clauses(part) {
            for rule in RULES {
                if out.iter().any(|(r, _, _)| *r == rule.reason) {
                    continue;
                }
                for p in rule.phrases {
                    let hit = clause
                        .match_indices(p)
                        .find(|(pos, _)| standalone(clause, *pos, p) && !suppressed(clause, *pos));
                    if hit.is_some() {
                        out.push((rule.reason, rule.urgent, (*p).to_string()));
                        break;
                    }
                }
            }
        }
    }
    out
}

/// What the model said about the text, as the risk rules use it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ModelSignals {
    pub negative: f32,
    pub anger: f32,
    pub any_category: bool,
}

/// Scores a text: phrase rules plus model signals.
pub fn assess(text: &str, m: ModelSignals) -> Risk {
    let mut evidence = Vec::new();
    let mut urgent = false;
    for (reason, is_urgent, phrase) in phrase_reasons(text) {
        let urgent_here = is_urgent || (reason == "service_outage" && m.negative >= 0.9);
        urgent |= urgent_here;
        evidence.push(Evidence {
            reason,
            phrase: Some(phrase),
            score: None,
        });
    }
    let exclaims = text.contains('!') || text.contains('！');
    if m.anger >= 0.5 || (m.negative >= 0.95 && exclaims) {
        evidence.push(Evidence {
            reason: "strong_anger",
            phrase: None,
            score: Some(m.anger.max(m.negative)),
        });
    }
    let reasons: Vec<&'static str> = evidence.iter().map(|e| e.reason).collect();
    let priority = if urgent {
        "A"
    } else if !reasons.is_empty() || m.negative >= 0.5 || m.any_category {
        "B"
    } else {
        "C"
    };
    let escalate = priority == "A"
        || reasons
            .iter()
            .any(|r| matches!(*r, "strong_anger" | "supervisor_demand" | "repeat_contact"));
    let rule_weight: f32 = if urgent {
        0.9
    } else if reasons.is_empty() {
        0.0
    } else {
        0.6
    };
    let score = rule_weight
        .max(0.7 * m.negative + 0.3 * m.anger)
        .clamp(0.0, 1.0);
    let (minutes, route) = match priority {
        "A" => (15, "complaints"),
        "B" => (30, "customer_service"),
        _ => (120, "inquiry"),
    };
    Risk {
        escalate,
        priority,
        score,
        reasons,
        respond_within_minutes: minutes,
        route,
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(t: &str) -> Vec<&'static str> {
        phrase_reasons(t).into_iter().map(|r| r.0).collect()
    }

    #[test]
    fn phrase_table() {
        let cases: &[(&str, &[&str])] = &[
            ("再不处理我就打12315投诉你们", &["regulator_threat"]),
            ("我要找媒体曝光你们", &["media_threat"]),
            ("我已经请了律师，准备起诉", &["legal_threat"]),
            ("充电器冒烟了，差点起火", &["safety"]),
            ("这是我第三次打电话了", &["repeat_contact"]),
            ("把你们领导叫来，我要找你们领导", &["supervisor_demand"]),
            ("再这样我就销户", &["churn_threat"]),
            ("家里宽带断网两天了", &["service_outage"]),
            // negation and questions do not fire
            ("我不是要投诉，也不会去12315", &[]),
            ("12315的电话是多少？", &[]),
            ("投诉流程是什么", &[]),
            ("我想查一下话费", &[]),
            // digits inside a phone number are not a hotline
            ("我电话13812345678", &[]),
            ("电话13812345678，我要打12315", &["regulator_threat"]),
            // a question with intent still fires
            ("你们是不是要我去12315才肯处理？", &["regulator_threat"]),
        ];
        for (text, want) in cases {
            assert_eq!(reasons(text), *want, "{text}");
        }
    }

    #[test]
    fn grades() {
        let calm = ModelSignals::default();
        let r = assess("我想查一下话费", calm);
        assert_eq!(
            (r.priority, r.escalate, r.respond_within_minutes),
            ("C", false, 120)
        );
        let neg = ModelSignals {
            negative: 0.8,
            ..Default::default()
        };
        let r = assess("等了很久还没到", neg);
        assert_eq!(
            (r.priority, r.escalate, r.route),
            ("B", false, "customer_service")
        );
        let r = assess("再不退款我就去12315投诉", neg);
        assert_eq!(
            (r.priority, r.escalate, r.respond_within_minutes),
            ("A", true, 15)
        );
        assert!(r.score >= 0.9);
        assert_eq!(r.evidence[0].phrase.as_deref(), Some("12315"));
        let angry = ModelSignals {
            negative: 0.9,
            anger: 0.7,
            any_category: true,
        };
        let r = assess("你们什么态度", angry);
        assert_eq!(r.reasons, vec!["strong_anger"]);
        assert!(r.escalate);
    }
}
