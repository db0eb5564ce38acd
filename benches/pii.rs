//! Throughput of PII masking on realistic mixed customer-service text: about 1 MB of messages,
//! most of them plain complaints and inquiries, about a third carrying PII (phone numbers in
//! digits and in ASR words, IDs, bank cards, e-mails, names, addresses) or look-alikes (order
//! numbers, amounts, dates, hotlines).
//!
//!     cargo bench --bench pii
//!
//! Criterion reports the throughput in MiB/s (1 MiB/s = 1.048576 MB/s) for one thread:
//! `per_message` masks every message separately (how the analyzer calls it), `one_document`
//! masks the whole megabyte as one string.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use xinsheng::text::mask;

const PLAIN: &[&str] = &[
    "我已经打了三次电话了，等了一个星期都没人处理，客服态度还特别差",
    "宽带从昨天晚上开始就断网了，重启光猫也没用，麻烦尽快派人来修",
    "你好，我想问一下这个套餐怎么取消，每个月扣的钱太多了",
    "快递三天了还没到，物流信息一直不更新，到底什么时候能送到",
    "买的手机屏幕有坏点，申请退货被拒绝了，这是什么道理",
    "服务很好，问题很快就解决了，谢谢你们的工作人员",
    "信号太差了，在家里打电话总是断线，希望你们能改善一下",
    "你们的APP一直闪退，登录不上去，账单也看不了",
    "请问积分可以兑换话费吗？怎么操作",
    "上次反映的问题到现在都没有回复，再不处理我就去投诉了",
    "饭菜送到的时候已经凉了，而且少送了一份米饭",
    "客服说会有人联系我，结果等了两天也没人打过来",
];

const WITH_PII: &[&str] = &[
    "我叫张伟，电话13812345678，宽带断网三天了",
    "我的手机号是幺三八一二三四五六七八，麻烦回个电话",
    "身份证11010519491231002X办的卡被停了",
    "卡号6222020200123456780被盗刷了两千块",
    "发票请发到zhangwei@163.com，谢谢",
    "收货地址北京市朝阳区建国路88号3栋2单元501室，收货人王小明",
    "王小明先生您好，您的工单已经受理",
    "座机010-62345678一直打不通，手机 139 8765 4321",
    "订单号202403150001还没发货，我打了10086也没用",
    "3月15号扣了138元话费，验证码602118也收不到",
    "本人刘德华，要求退款",
    "快递单号SF1234567890123，客服热线400-810-8888打不通",
];

/// About `target` bytes of messages, one per line, two thirds plain and one third with PII
/// or look-alikes, in a fixed pseudo-random order.
fn corpus(target: usize) -> Vec<String> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut lines = Vec::new();
    let mut size = 0;
    while size < target {
        let r = next();
        let line = if r % 3 == 0 {
            WITH_PII[(r / 3) as usize % WITH_PII.len()]
        } else {
            PLAIN[(r / 3) as usize % PLAIN.len()]
        };
        size += line.len() + 1;
        lines.push(line.to_string());
    }
    lines
}

fn bench(c: &mut Criterion) {
    let lines = corpus(1_000_000);
    let document = lines.join("\n");
    let bytes = document.len() as u64;
    let mut g = c.benchmark_group("pii_mask_1MB");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("per_message", |b| {
        b.iter(|| {
            let mut total = 0;
            for line in &lines {
                total += mask(black_box(line)).len();
            }
            total
        })
    });
    g.bench_function("one_document", |b| {
        b.iter(|| mask(black_box(&document)).len())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
