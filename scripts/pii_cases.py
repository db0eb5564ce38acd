#!/usr/bin/env python3
"""Writes tests/data/pii_cases.jsonl, the evidence table of the PII masker (tests/pii_cases.rs).

Every row: {"text", "expected" (the fully masked text), "kinds" (PII kinds in the text),
"lookalike" (true when the row holds no PII, only things that look like it)}.

Numbers that must be valid (resident IDs, bank cards) get their check characters computed here
(GB 11643 MOD 11-2, Luhn); look-alikes that must fail a check are derived from valid ones by
changing the check digit. The expected masked forms follow the rules of src/text/pii.rs and are
built here independently of the Rust code. Deterministic: run it again and the file is the same.

    python3 scripts/pii_cases.py            # writes tests/data/pii_cases.jsonl
"""

import json
import random
import sys
from pathlib import Path

RNG = random.Random(20240315)
OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "pii_cases.jsonl"

FULL = {str(d): chr(ord("０") + d) for d in range(10)}


def full_width(s):
    return "".join(FULL.get(c, c) for c in s)


def is_digit(c):
    return c.isascii() and c.isdigit() or "０" <= c <= "９"


def mask_digits(s, keep_head=0, keep_tail=0):
    """Masks every digit (and an ID check X) of s, keeping the first keep_head and the last
    keep_tail of them; other characters (separators) stay."""
    idx = [i for i, c in enumerate(s) if is_digit(c) or c in "Xx"]
    keep = set(idx[:keep_head]) | (set(idx[len(idx) - keep_tail :]) if keep_tail else set())
    return "".join("*" if (i in idx and i not in keep) else c for i, c in enumerate(s))


# ----------------------------------------------------------------------------- check digits
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"


def id_check(body17):
    return ID_CHECK[sum(int(d) * w for d, w in zip(body17, ID_WEIGHTS)) % 11]


def luhn_check(body):
    total = 0
    for i, d in enumerate(reversed(body)):
        d = int(d)
        if i % 2 == 0:  # these positions are doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(num):
    total = 0
    for i, d in enumerate(reversed(num)):
        d = int(d)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def resident_id(region, year, month, day, rng=None):
    rng = rng or RNG
    body = f"{region}{year:04d}{month:02d}{day:02d}{rng.randrange(1000):03d}"
    return body + id_check(body)


def bank_card(bin_, length, rng=None):
    rng = rng or RNG
    body = bin_ + "".join(str(rng.randrange(10)) for _ in range(length - 1 - len(bin_)))
    card = body + luhn_check(body)
    assert luhn_ok(card)
    return card


def wrong_check(num, alphabet="0123456789"):
    last = num[-1]
    return num[:-1] + next(c for c in alphabet if c != last)


def mobile(rng=None):
    rng = rng or RNG
    second = rng.choice("3456789")
    return "1" + second + "".join(str(rng.randrange(10)) for _ in range(9))


SPOKEN = {"0": "零洞", "1": "一幺", "2": "二", "3": "三", "4": "四", "5": "五", "6": "六",
          "7": "七", "8": "八", "9": "九"}


def spoken(num, style):
    """num in digit words; style 0 = 一/零, 1 = 幺/洞, 2 = random mix."""
    out = []
    for d in num:
        choices = SPOKEN[d]
        if len(choices) == 1 or style == 0:
            out.append(choices[0])
        elif style == 1:
            out.append(choices[1])
        else:
            out.append(RNG.choice(choices))
    return "".join(out)


def mask_spoken(s):
    """Keeps the first digit word, masks the other digit words."""
    words = set("".join(SPOKEN.values()))
    out, seen = [], False
    for c in s:
        if c in words:
            out.append(c if not seen else "*")
            seen = True
        else:
            out.append(c)
    return "".join(out)


def grp(s, sizes, sep=" "):
    parts, i = [], 0
    for n in sizes:
        parts.append(s[i : i + n])
        i += n
    assert i == len(s)
    return sep.join(parts)


def check_id_valid(i):
    assert len(i) == 18 and id_check(i[:17]) == i[17].upper(), i


rows = []


def pii(text, expected, kinds):
    assert text != expected, text
    rows.append({"text": text, "expected": expected, "kinds": kinds, "lookalike": False})


def lookalike(text):
    rows.append({"text": text, "expected": text, "kinds": [], "lookalike": True})


# ----------------------------------------------------------------------------- mobiles (digits)
m = [mobile() for _ in range(20)]
pii(f"我的电话{m[0]}", f"我的电话{mask_digits(m[0], 1)}", ["mobile"])
pii(f"手机号：{m[1]}，麻烦尽快回电", f"手机号：{mask_digits(m[1], 1)}，麻烦尽快回电", ["mobile"])
s = grp(m[2], [3, 4, 4])
pii(f"手机 {s} 打不通就发短信", f"手机 {mask_digits(s, 1)} 打不通就发短信", ["mobile"])
s = grp(m[3], [3, 4, 4], "-")
pii(f"联系电话{s}", f"联系电话{mask_digits(s, 1)}", ["mobile"])
s = "+86 " + grp(m[4], [3, 4, 4])
pii(f"请打{s}找我", f"请打{mask_digits(s, 3)}找我", ["mobile"])
pii(f"+86{m[5]}", f"{mask_digits('+86' + m[5], 3)}", ["mobile"])
pii(f"号码0086-{m[6]}", f"号码{mask_digits('0086-' + m[6], 5)}", ["mobile"])
pii(f"电话86{m[7]}", f"电话{mask_digits('86' + m[7], 3)}", ["mobile"])
s = full_width(m[8])
pii(f"电话{s}，谢谢", f"电话{mask_digits(s, 1)}，谢谢", ["mobile"])
pii(f"拨0{m[9]}", f"拨{mask_digits('0' + m[9], 2)}", ["mobile"])
s = m[10][:7] + "-" + m[10][7:]
pii(f"电话是{s}", f"电话是{mask_digits(s, 1)}", ["mobile"])
pii(f"联系{m[11]}或{m[12]}都行", f"联系{mask_digits(m[11], 1)}或{mask_digits(m[12], 1)}都行",
    ["mobile"])
s = " ".join(m[13])
pii(f"我的号码 {s}", f"我的号码 {mask_digits(s, 1)}", ["mobile"])
pii(f"{m[14]}", mask_digits(m[14], 1), ["mobile"])
pii(f"宽带一直断网，3月15日报修过，回电{m[15]}", f"宽带一直断网，3月15日报修过，回电{mask_digits(m[15], 1)}",
    ["mobile"])
s = grp(m[16], [3, 8])
pii(f"手机：{s}", f"手机：{mask_digits(s, 1)}", ["mobile"])
s = "+86-" + grp(m[17], [3, 4, 4], "-")
pii(f"境外请拨{s}", f"境外请拨{mask_digits(s, 3)}", ["mobile"])
s = full_width(grp(m[18], [3, 4, 4]))
pii(f"电话：{s}", f"电话：{mask_digits(s, 1)}", ["mobile"])
pii(f"我手机号{m[19]}，订单号202403150001还没到",
    f"我手机号{mask_digits(m[19], 1)}，订单号202403150001还没到", ["mobile"])

# ----------------------------------------------------------------------------- mobiles (ASR words)
m = [mobile() for _ in range(14)]
for k in range(4):
    s = spoken(m[k], k % 3)
    pii(f"我的手机号是{s}", f"我的手机号是{mask_spoken(s)}", ["mobile"])
s = grp(spoken(m[4], 0), [3, 4, 4])
pii(f"电话 {s} 谢谢", f"电话 {mask_spoken(s)} 谢谢", ["mobile"])
s = grp(spoken(m[5], 1), [3, 4, 4], "，")
pii(f"号码{s}", f"号码{mask_spoken(s)}", ["mobile"])
s = spoken("13812345678", 1)
pii(f"你记一下{s}", f"你记一下{mask_spoken(s)}", ["mobile"])
s = grp(spoken(m[6], 2), [3, 4, 4])
pii(f"回拨{s}就行", f"回拨{mask_spoken(s)}就行", ["mobile"])
s = spoken("15900001111", 1)
pii(f"嗯我的电话是{s}", f"嗯我的电话是{mask_spoken(s)}", ["mobile"])
s = grp(spoken(m[7], 0), [3, 4, 4], "、")
pii(f"手机号{s}", f"手机号{mask_spoken(s)}", ["mobile"])
s = spoken(m[8], 2)
pii(f"客服您好{s}是我的手机", f"客服您好{mask_spoken(s)}是我的手机", ["mobile"])
s = grp(spoken(m[9], 1), [3, 8])
pii(f"电话{s}", f"电话{mask_spoken(s)}", ["mobile"])
s = " ".join(spoken(m[10], 0))
pii(f"手机 {s}", f"手机 {mask_spoken(s)}", ["mobile"])
s = spoken(m[11], 1)
pii(f"打我电话{s}。", f"打我电话{mask_spoken(s)}。", ["mobile"])

# ----------------------------------------------------------------------------- landlines
landlines = [
    ("座机010-62345678", "座机010-********"),
    ("办公电话：021-58881234", "办公电话：021-********"),
    ("打0755 8888 6666", "打0755 **** ****"),
    ("电话(0571)88886666", "电话(0571)********"),
    ("电话（020）87654321转分机", "电话（020）********转分机"),
    ("02587654321", "025********"),
    ("家里座机0731-8456789", "家里座机0731-*******"),
    ("电话是0512-66668888转8001", "电话是0512-********转8001"),
    ("固话 028 8765 4321", "固话 028 **** ****"),
    ("０１０－６２３４５６７８", "０１０－********"),
    ("营业厅电话0532-83886666，一直没人接", "营业厅电话0532-********，一直没人接"),
]
for text, expected in landlines:
    pii(text, expected, ["landline"])

# ----------------------------------------------------------------------------- resident IDs
ids = [
    resident_id("110105", 1949, 12, 31),
    resident_id("310115", 1985, 6, 12),
    resident_id("440304", 1990, 2, 28),
    resident_id("510107", 1978, 11, 3),
    resident_id("650102", 2000, 2, 29),
    resident_id("330106", 1995, 8, 8),
    resident_id("420106", 1968, 1, 1),
    resident_id("320102", 2003, 10, 20),
]
for i in ids:
    check_id_valid(i)
# One with an X check character and one with x, found by searching sequence numbers.
x_id = next(
    b + id_check(b)
    for b in (f"44030419850612{n:03d}" for n in range(1000))
    if id_check(b) == "X"
)
pii(f"身份证号{ids[0]}", f"身份证号{mask_digits(ids[0])}", ["resident_id"])
pii(f"身份证：{ids[1]}，办卡用的", f"身份证：{mask_digits(ids[1])}，办卡用的", ["resident_id"])
pii(f"我的证件号码是{ids[2]}", f"我的证件号码是{mask_digits(ids[2])}", ["resident_id"])
pii(f"{ids[3]}是我本人的", f"{mask_digits(ids[3])}是我本人的", ["resident_id"])
s = grp(ids[4], [6, 8, 4])
pii(f"身份证 {s}", f"身份证 {mask_digits(s)}", ["resident_id"])
pii(f"证件号{x_id}", f"证件号{mask_digits(x_id)}", ["resident_id"])
pii(f"身份证号码：{x_id.lower()}", f"身份证号码：{mask_digits(x_id.lower())}", ["resident_id"])
s = full_width(ids[5])
pii(f"身份证{s}", f"身份证{mask_digits(s)}", ["resident_id"])
pii(f"用{ids[6]}实名的号码被停机了", f"用{mask_digits(ids[6])}实名的号码被停机了", ["resident_id"])
pii(f"户主身份证 {ids[7]} 请核对", f"户主身份证 {mask_digits(ids[7])} 请核对", ["resident_id"])
for legacy in ["110105491231002", "440304850612123", "510107781103456"]:
    pii(f"身份证号{legacy}", f"身份证号{mask_digits(legacy)}", ["resident_id"])
pii("老身份证是320102680101123的", "老身份证是***************的", ["resident_id"])

# ----------------------------------------------------------------------------- bank cards
cards = [
    bank_card("622202", 19),
    bank_card("621700", 19),
    bank_card("622848", 19),
    bank_card("436742", 16),
    bank_card("524047", 16),
    bank_card("621226", 19),
    bank_card("625807", 16),
    bank_card("622588", 16),
    bank_card("601382", 19),
]
pii(f"卡号{cards[0]}被盗刷了", f"卡号{mask_digits(cards[0], 0, 4)}被盗刷了", ["bank_card"])
pii(f"银行卡：{cards[1]}", f"银行卡：{mask_digits(cards[1], 0, 4)}", ["bank_card"])
s = grp(cards[2], [4, 4, 4, 4, 3])
pii(f"卡号 {s}", f"卡号 {mask_digits(s, 0, 4)}", ["bank_card"])
s = grp(cards[3], [4, 4, 4, 4])
pii(f"信用卡 {s} 多扣了年费", f"信用卡 {mask_digits(s, 0, 4)} 多扣了年费", ["bank_card"])
s = grp(cards[4], [4, 4, 4, 4], "-")
pii(f"我的卡{s}", f"我的卡{mask_digits(s, 0, 4)}", ["bank_card"])
pii(f"退款请打到{cards[5]}", f"退款请打到{mask_digits(cards[5], 0, 4)}", ["bank_card"])
s = full_width(cards[6])
pii(f"卡号{s}", f"卡号{mask_digits(s, 0, 4)}", ["bank_card"])
pii(f"{cards[7]}这张卡扣款失败", f"{mask_digits(cards[7], 0, 4)}这张卡扣款失败", ["bank_card"])
pii(f"还款卡号是 {cards[8]}", f"还款卡号是 {mask_digits(cards[8], 0, 4)}", ["bank_card"])

# ----------------------------------------------------------------------------- e-mails
def email_case(before, local, domain, after=""):
    """An e-mail row: the first character of the local part is kept (none when it is the only
    one), the rest of the local part is masked, the domain is kept."""
    masked = ("*" * len(local)) if len(local) == 1 else local[0] + "*" * (len(local) - 1)
    pii(f"{before}{local}@{domain}{after}", f"{before}{masked}@{domain}{after}", ["email"])


email_case("邮箱", "zhangwei", "163.com", "谢谢")
email_case("发到 ", "li.na88", "qq.com")
email_case("我的邮箱是", "wang_xm", "sina.com.cn")
email_case("email: ", "Chen-Jing", "Gmail.com")
email_case("", "13812345678", "qq.com", "收不到账单")
email_case("邮件发", "a", "126.com")
email_case("发票寄到", "zhao.min+invoice", "company.com.cn")
email_case("联系邮箱：", "liu2024", "foxmail.com", "。")

# ----------------------------------------------------------------------------- names
names = [
    ("我叫张伟", "我叫张*"),
    ("我叫王小明，订单没到", "我叫王**，订单没到"),
    ("我叫张伟投诉一下", "我叫张*投诉一下"),
    ("我叫李娜想问一下", "我叫李*想问一下"),
    ("我叫刘洋反映个问题", "我叫刘*反映个问题"),
    ("我叫陈晓东昨天来过电话", "我叫陈**昨天来过电话"),
    ("我的名字叫赵丽颖", "我的名字叫赵**"),
    ("我名叫孙杰", "我名叫孙*"),
    ("姓名：王小明", "姓名：王**"),
    ("姓名:周杰", "姓名:周*"),
    ("联系人：吴晓燕 电话打不通", "联系人：吴** 电话打不通"),
    ("收货人是郑凯", "收货人是郑*"),
    ("收件人：黄海涛", "收件人：黄**"),
    ("持卡人：马云龙", "持卡人：马**"),
    ("户名：林静", "户名：林*"),
    ("我是王小明，我想投诉", "我是王**，我想投诉"),
    ("我是李四。", "我是李*。"),
    ("我是张伟投诉一下", "我是张*投诉一下"),
    ("本人刘德华", "本人刘**"),
    ("本人杨洋，要求退款", "本人杨*，要求退款"),
    ("我姓王，名小明", "我姓王，名**"),
    ("我姓郭名靖", "我姓郭名*"),
    ("我叫欧阳锋", "我叫欧阳*"),
    ("我是诸葛亮", "我是诸葛*"),
    ("王小明先生您好", "王先生您好"),
    ("请转告李明先生", "请转告李先生"),
    ("欧阳娜娜女士的快递", "欧阳女士的快递"),
    ("张丽小姐来电", "张小姐来电"),
    ("陈静女士，您好", "陈女士，您好"),
    ("司马光先生", "司马先生"),
    ("请王芳女士回电", "请王女士回电"),
    ("黄晓明先生投诉了三次", "黄先生投诉了三次"),
    ("我是王小明先生", "我是王先生"),
]
for text, expected in names:
    pii(text, expected, ["name"])

# ----------------------------------------------------------------------------- addresses
addresses = [
    ("北京市朝阳区建国路88号3栋2单元501室", "北京市朝阳区建国路**号*栋*单元***室"),
    ("上海市浦东新区张江路100弄12号602室", "上海市浦东新区张江路***弄**号***室"),
    ("广州市天河区体育西路191号中石化大厦B座1203室", "广州市天河区体育西路***号中石化大厦B座****室"),
    ("深圳市南山区深南大道9988号", "深圳市南山区深南大道****号"),
    ("杭州市西湖区文三路90号东部软件园1号楼5单元302室",
     "杭州市西湖区文三路**号东部软件园*号楼*单元***室"),
    ("成都市武侯区人民南路四段12号", "成都市武侯区人民南路四段**号"),
    ("南京市鼓楼区中山北路30号院2号楼", "南京市鼓楼区中山北路**号院*号楼"),
    ("武汉市洪山区珞喻路1037号", "武汉市洪山区珞喻路****号"),
    ("幸福里小区7栋2单元1101，快递放门口", "幸福里小区*栋*单元****，快递放门口"),
    ("北京市海淀区中关村大街27号", "北京市海淀区中关村大街**号"),
    ("张家村3组15号", "张家村3组**号"),
    ("收货地址：江苏省苏州市工业园区星湖街328号创意产业园5栋201室",
     "收货地址：江苏省苏州市工业园区星湖街***号创意产业园*栋***室"),
    ("我家住在长安街12号院3号楼", "我家住在长安街**号院*号楼"),
    ("重庆市渝中区解放碑步行街8号", "重庆市渝中区解放碑步行街*号"),
    ("住门牌18号", "住门牌**号"),
    ("地址是翠苑二区12幢3单元402室，师傅上门", "地址是翠苑二区**幢*单元***室，师傅上门"),
]
for text, expected in addresses:
    pii(text, expected, ["address"])

# ----------------------------------------------------------------------------- mixed rows
m = [mobile() for _ in range(4)]
pii(f"我叫张伟，电话{m[0]}，订单号202403150001还没到",
    f"我叫张*，电话{mask_digits(m[0], 1)}，订单号202403150001还没到", ["name", "mobile"])
pii(f"我是李四，身份证{ids[1]}，卡号{cards[0]}",
    f"我是李*，身份证{mask_digits(ids[1])}，卡号{mask_digits(cards[0], 0, 4)}",
    ["name", "resident_id", "bank_card"])
pii(f"王小明先生，手机{m[1]}，地址建国路88号3栋",
    f"王先生，手机{mask_digits(m[1], 1)}，地址建国路**号*栋", ["name", "mobile", "address"])
pii(f"邮箱zw@qq.com，座机010-62345678，10086打不通",
    "邮箱z*@qq.com，座机010-********，10086打不通", ["email", "landline"])
pii(f"快递单号SF1234567890123，收件人赵敏，电话{m[2]}",
    f"快递单号SF1234567890123，收件人赵*，电话{mask_digits(m[2], 1)}", ["name", "mobile"])
pii(f"3月15号扣了138元，回电{m[3]}", f"3月15号扣了138元，回电{mask_digits(m[3], 1)}", ["mobile"])

# ----------------------------------------------------------------------------- look-alikes
lm = [mobile() for _ in range(6)]
card = bank_card("622202", 19)
# order, ticket and tracking numbers
lookalike(f"订单号{lm[0]}还没发货")
lookalike(f"订单号：{ids[2]}")
lookalike("订单编号 202403151234567890 一直显示待发货")
lookalike(f"订单{card}一直没发")
lookalike(f"我的订单 {bank_card('436742', 16)} 被取消了")
lookalike("工单号 20240315001 没人处理")
lookalike("快递单号SF1234567890123")
lookalike("运单号：73100012345678")
lookalike("顺丰单号 SF 1400 2345 6789")
lookalike("中通快递 75312345678901 三天没更新")
lookalike("京东物流JD0012345678901")
lookalike("EMS单号 1234567890123")
lookalike(f"快递单号：{lm[1]}")
lookalike(f"流水号{bank_card('622848', 19)}")
lookalike("交易号 4200001234202403151234567890")
# amounts
lookalike("话费多扣了 ¥1,380.00")
lookalike("退款1380.50元一直没到")
lookalike("转账 50000 元")
lookalike("账单金额 ￥2380")
lookalike(f"扣了{lm[2]}元")
lookalike("赔偿 1000 块")
lookalike("套餐 138 元每月")
# dates and times
lookalike("2024-03-15 10:30下的单")
lookalike("2024年3月15日办的宽带")
lookalike("下单时间 2024/03/15 14:22:10")
lookalike("20240315 那天扣的款")
lookalike("3月15号到货")
lookalike("15号之前处理好")
lookalike("3月15号楼下等快递")
# verification codes and other codes
lookalike("验证码是 138123")
lookalike("验证码：602118，请勿泄露")
lookalike(f"验证码{lm[3]}")
lookalike("取件码 13812345")
lookalike("兑换码 ABCD-1234-EFGH")
lookalike("型号 SM-G9980")
lookalike("版本 v13.8.12345")
lookalike("IP 192.168.1.100 连不上")
lookalike("iPhone 13 Pro 屏幕坏了")
# 工号
lookalike(f"工号 {lm[4]}")
lookalike("客服工号 10086")
lookalike("工号9527的客服态度很差")
# hotlines
lookalike("我打了10086和12315，还有95588")
lookalike("客服热线400-810-8888")
lookalike("拨打4008108888没人接")
lookalike("800-820-8820")
lookalike("打了12345市民热线")
lookalike("95555一直占线")
lookalike("我要打110报警")
lookalike("12306订的票")
# numbers failing their check digit / shape
lookalike(f"号码{wrong_check(ids[0], '0123456789X')}")
lookalike(f"卡号{wrong_check(cards[1])}")
lookalike(f"卡号 {grp(wrong_check(cards[3]), [4, 4, 4, 4])}")
lookalike("11010519491331002X")
lookalike("12345678901")
lookalike("1381234567")
lookalike("138123456789")
lookalike("13 812 345 678")
lookalike("编码110105491231002")
lookalike(f"金额 {lm[5]}.00")
# digit words that are not phone numbers
lookalike("一二三四五六七八九十")
lookalike("等了一两个小时，打了三四次")
lookalike("二三八一二三四五六七八")
# addresses look-alikes
lookalike("地铁2号线停运了")
lookalike("3号窗口的工作人员")
lookalike("三室两厅，3室1厅")
lookalike("第2单元的内容")
lookalike("买了2栋房子")
lookalike("人民路3号口")
lookalike("5号床的病人")
lookalike("酒店的8号楼设施比较新")
lookalike("先去了6号楼，后来换到8号楼")
# names look-alikes
lookalike("我是来投诉的")
lookalike("我是高中生")
lookalike("我是黄金会员")
lookalike("我是武汉的用户")
lookalike("我是江苏人")
lookalike("张先生你好")
lookalike("王总，这事您管管")
lookalike("李老师说的")
lookalike("我姓王")
lookalike("我叫了三次外卖")
lookalike("本人于昨天下单")
lookalike("我是你们的老客户")
lookalike("这位先生")
lookalike("刘师傅来修的")
lookalike("先生们女士们")
lookalike("我叫王师傅来修")
# e-mail look-alikes
lookalike("@客服小王 你好")
lookalike("微博@中国移动10086")
lookalike("邮箱格式不对 abc@def")

# ----------------------------------------------------------------------------- second batch
# Written after the rules above were implemented, to check them on phrasing they were not
# tuned on (the first run of this batch is reported in the README).
h = [mobile() for _ in range(6)]
pii("本人叫王强，要投诉", "本人叫王*，要投诉", ["name"])
pii("我姓张，叫张建国", "我姓张，叫张**", ["name"])
pii("客户姓名：欧阳明月", "客户姓名：欧阳**", ["name"])
pii("我是王强啊", "我是王*啊", ["name"])
pii(f"电话号码:(+86){h[0]}", f"电话号码:(+86){mask_digits(h[0], 1)}", ["mobile"])
pii(f"我的电话是 {grp(h[1], [3, 4, 4], '-')}", f"我的电话是 {mask_digits(grp(h[1], [3, 4, 4], '-'), 1)}",
    ["mobile"])
email_case("我的QQ邮箱", "123456789", "qq.com")
pii("地址：上海市静安区南京西路1266号恒隆广场2座3305", "地址：上海市静安区南京西路****号恒隆广场2座****",
    ["address"])
pii("家住阳光小区5号楼1单元602", "家住阳光小区*号楼*单元***", ["address"])
pii("寄到杭州市余杭区文一西路969号", "寄到杭州市余杭区文一西路***号", ["address"])
s_ = grp(spoken(h[2], 1), [3, 4, 4])
pii(f"我手机号{s_}", f"我手机号{mask_spoken(s_)}", ["mobile"])
s_ = grp(spoken(h[3], 0), [3, 4, 4], "，")
pii(f"电话是{s_}", f"电话是{mask_spoken(s_)}", ["mobile"])
pii(f"联系方式{h[4]}（微信同号）", f"联系方式{mask_digits(h[4], 1)}（微信同号）", ["mobile"])
pii(f"刘女士，{h[5]}", f"刘女士，{mask_digits(h[5], 1)}", ["mobile"])
lookalike("身份证号码后四位是1234")
lookalike("银行卡尾号8888")
lookalike("手机尾号5678的用户")
lookalike("月租58元，10元100M流量")
lookalike("2024年03月15日 14:30")
lookalike("第3次打电话了")
lookalike("串号867530012345678")
lookalike("IMEI 867530012345678")
lookalike("工号A1234")
lookalike("信用卡账单日每月5号")
lookalike("我住3楼")
lookalike("8号线地铁站")
lookalike("12号考试")
lookalike("5G套餐升级")
lookalike("周三下午3点来修")

# ----------------------------------------------------------------------------- fourth batch
# Gaps found by a later audit: name triggers (`这边是`, `我是用户`, a name before `要`, `姓张，张伟`),
# the surnames 申/甘/单 (and the words they start), IDs, cards and phones read out in digit words,
# `%40` and spaced e-mails, `+86` landlines, floors and dashed rooms inside addresses, a phone
# after a product-code label. Numbers here come from their own generator, so that the rows of
# the other batches stay as they were.
R4 = random.Random(20261203)
DIGIT_WORD = dict(zip("0123456789", "零一二三四五六七八九"))


def words(num):
    """num in digit words (`一`, `零`)."""
    return "".join(DIGIT_WORD.get(d, d) for d in num)


def mobile4():
    return mobile(R4)


def resident_id4(region, year, month, day):
    return resident_id(region, year, month, day, R4)


def bank_card4(bin_, length):
    return bank_card(bin_, length, R4)


def stars_words(s, keep_head=0, keep_tail=0):
    """Masks the digit words and digits of s, keeping the first keep_head and last keep_tail."""
    digit_chars = set(DIGIT_WORD.values()) | set("幺洞0123456789Xx")
    idx = [i for i, c in enumerate(s) if c in digit_chars]
    keep = set(idx[:keep_head]) | (set(idx[len(idx) - keep_tail :]) if keep_tail else set())
    return "".join("*" if (i in idx and i not in keep) else c for i, c in enumerate(s))


# names
pii("我这边是李娜", "我这边是李*", ["name"])
pii("这边是张伟", "这边是张*", ["name"])
pii("您好，这边是王小明，宽带又断了", "您好，这边是王**，宽带又断了", ["name"])
pii("我是用户李雪", "我是用户李*", ["name"])
pii("我是王小明要投诉你们", "我是王**要投诉你们", ["name"])
pii("我姓张，张伟", "我姓张，张*", ["name"])
pii("我叫申雪", "我叫申*", ["name"])
pii("我叫甘露露", "我叫甘**", ["name"])
pii("我叫单雄信", "我叫单**", ["name"])
lookalike("我们这边是高新区")
lookalike("你们这边是怎么回事")
lookalike("我是用户，要投诉")
lookalike("我姓张，张飞的张")
lookalike("我要申请退款")
lookalike("本人申请退款")
lookalike("我不甘心")
lookalike("订单号查不到")
lookalike("姓名单独填写")
lookalike("客户名单里有我")
lookalike("本人单身")
lookalike("我是申通快递的")
# numbers in digit words (IDs and cards valid, computed here)
id4 = resident_id4("440306", 1990, 1, 1)
pii(f"身份证号是{words(id4)}", f"身份证号是{stars_words(words(id4))}", ["resident_id"])
check_id_valid("11010519491231002X")
s4 = words("11010519491231002") + "叉"  # the check character X read out as 叉
pii(f"身份证号是{s4}", f"身份证号是{'*' * 18}", ["resident_id"])
id4b = resident_id4("310115", 1985, 6, 12)
pii(f"我的证件号{words(id4b)}", f"我的证件号{stars_words(words(id4b))}", ["resident_id"])
card4 = bank_card4("622202", 19)
pii(f"银行卡号{words(card4)}", f"银行卡号{stars_words(words(card4), 0, 4)}", ["bank_card"])
s4 = grp(words(bank_card4("621700", 16)), [4, 4, 4, 4])
pii(f"卡号 {s4} 被冻结了", f"卡号 {stars_words(s4, 0, 4)} 被冻结了", ["bank_card"])
m4 = mobile4()
pii(f"加零零八六{spoken(m4, 1)}", f"加零零八六{stars_words(spoken(m4, 1), 1)}", ["mobile"])
m4 = mobile4()
pii(f"加八六{words(m4)}", f"加八六{stars_words(words(m4), 1)}", ["mobile"])
m4 = mobile4()
s4 = words(m4[:3]) + m4[3:7] + words(m4[7:])
pii(f"电话{s4}", f"电话{stars_words(s4, 1)}", ["mobile"])
lookalike(f"号码{words(wrong_check(resident_id4('440306', 1990, 1, 1)))}")
lookalike(f"卡号{words(wrong_check(bank_card4('622202', 19)))}")
lookalike("一二三四五六七八九十一二三四五六七八九")
lookalike(f"订单号{words(mobile4())}")
# e-mails and landlines
pii("邮箱zhangsan%40163.com", "邮箱z*******%40163.com", ["email"])
pii("邮箱是 zhangsan @ 163.com 谢谢", "邮箱是 z******* @ 163.com 谢谢", ["email"])
pii("座机+86-10-62345678", "座机+86-10-********", ["landline"])
lookalike("满意度100%40分")
lookalike("订单861062345678")
# addresses
pii("杭州市西湖区文三路90号东部软件园1号楼5楼501", "杭州市西湖区文三路**号东部软件园*号楼*楼***",
    ["address"])
pii("住在幸福小区12-1502", "住在幸福小区**-****", ["address"])
pii("住在阳光花园2-1-302", "住在阳光花园*-*-***", ["address"])
pii("我住在酒店对面的幸福小区3栋201", "我住在酒店对面的幸福小区*栋***", ["address"])
lookalike("会议在301室开")
lookalike("订的酒店房间是1208室")
lookalike("商场B区12号")
lookalike("店铺在步行街3号")
lookalike("学校2栋宿舍楼")
lookalike("考试考第3单元和4单元")
lookalike("小区12-15岁的孩子")
pii("建国路八十八号三栋二单元五零一室", "建国路***号*栋*单元***室", ["address"])
lookalike("小区两栋楼")
lookalike("下一单元的内容")
# a phone after a product-code label
m4 = mobile4()
pii(f"快递柜 编码 {m4}", f"快递柜 编码 {mask_digits(m4, 1)}", ["mobile"])
lookalike("商品编码 6222020200001234562")
lookalike(f"工号 {mobile4()}")

# ----------------------------------------------------------------------------- third batch
# Written after the masker was finished, as realistic sentences it had never been run on (a
# held-out check of the rules, not a tuning set); rows it got wrong were kept, not rephrased.
t = [mobile() for _ in range(6)]
pii(f"您好，我的手机是{t[0]}，登记的号码错了", f"您好，我的手机是{mask_digits(t[0], 1)}，登记的号码错了",
    ["mobile"])
s_ = "0086 " + grp(t[1], [3, 4, 4], "-")
pii(f"回拨电话：{s_}", f"回拨电话：{mask_digits(s_, 5)}", ["mobile"])
pii("座机 021-5432 1098 白天有人", "座机 021-**** **** 白天有人", ["landline"])
pii("打(020)87654321找前台", "打(020)********找前台", ["landline"])
id3 = resident_id("440301", 1985, 6, 12)
pii(f"身份证号：{id3}，办卡时填的", f"身份证号：{mask_digits(id3)}，办卡时填的", ["resident_id"])
card3 = bank_card("621700", 19)
s_ = grp(card3, [4, 4, 4, 4, 3])
pii(f"卡号 {s_} 被冻结了", f"卡号 {mask_digits(s_, 0, 4)} 被冻结了", ["bank_card"])
email_case("联系邮箱 ", "Li.Ming_88", "company.com.cn", " 谢谢")
pii("我叫李娜，是你们的老用户", "我叫李*，是你们的老用户", ["name"])
pii("请转告陈志强先生回电", "请转告陈先生回电", ["name"])
pii(f"联系人：赵敏 {t[2]}", f"联系人：赵* {mask_digits(t[2], 1)}", ["name", "mobile"])
pii("我是刘洋，上周办的宽带", "我是刘*，上周办的宽带", ["name"])
pii("我姓黄名晓明", "我姓黄名**", ["name"])
pii("收件人：孙丽 地址：成都市武侯区科华北路65号", "收件人：孙* 地址：成都市武侯区科华北路**号",
    ["name", "address"])
pii("送到广州市天河区天河路385号太古汇2501室", "送到广州市天河区天河路***号太古汇****室", ["address"])
s_ = grp(spoken("15012345678", 1), [3, 4, 4])
pii(f"我电话是{s_}", f"我电话是{mask_spoken(s_)}", ["mobile"])
s_ = spoken("18600123456", 2)
pii(f"号码{s_}，晚上打", f"号码{mask_spoken(s_)}，晚上打", ["mobile"])
pii(f"手机:+86-{t[3]}", f"手机:+86-{mask_digits(t[3], 1)}", ["mobile"])
pii("老人的身份证是15位的：110105491231002", "老人的身份证是15位的：***************",
    ["resident_id"])
pii("麻烦让吴建华女士接电话", "麻烦让吴女士接电话", ["name"])
pii(f"我叫马丽丽，{t[4]}，小区门口的快递柜坏了", f"我叫马**，{mask_digits(t[4], 1)}，小区门口的快递柜坏了",
    ["name", "mobile"])
lookalike("订单号：4200001234567890123 还没退款")
lookalike("快递单号 773012345678901")
lookalike("退款金额 13812.50 元")
lookalike("验证码是 138123，五分钟内有效")
lookalike("请拨打客服热线95588")
lookalike("话费扣了 158 元")
lookalike("2023年12月31日 23:59:59 下的单")
lookalike("工号 9527 的客服态度很差")
lookalike("拨打 12345 市民热线")
lookalike("张经理说会处理")
lookalike("我是新用户")
lookalike("我是中国移动的老客户")
lookalike("套餐 199 元包 30G 流量")
lookalike("交易流水号 2024031512345678901")
lookalike("运单号：SF1420012345678")
lookalike("400-820-8820 一直打不通")
lookalike("我是王者荣耀的玩家")
lookalike("高铁 G1234 次晚点")
lookalike("住院 8 号床")
lookalike("发票代码 044031900111")

# ----------------------------------------------------------------------------- fifth batch
# Gaps left open by the fourth: formal (financial) digits 壹贰叁肆伍陆柒捌玖 as on bank forms,
# sentence punctuation (`。`, `.`, `．`) between the groups of a number read out, building and
# unit numbers in words after a road or an estate (`中山路三号楼二单元`), and a mobile whose last
# four digits are written in pairs (`138 1234 56 78`). Written with the rules (no held-out
# check); numbers from their own generator, so that the rows above stay as they were.
R5 = random.Random(20261205)
FORMAL = dict(zip("0123456789", "零壹贰叁肆伍陆柒捌玖"))
TRADITIONAL = {"贰": "貳", "陆": "陸"}


def formal(num):
    """num in formal (financial) digits (`壹`, `零`)."""
    return "".join(FORMAL.get(d, d) for d in num)


def stars_any(s, keep_head=0, keep_tail=0):
    """Masks digits, digit words and formal digits of s, keeping the first keep_head and the
    last keep_tail of them; everything else (separators, punctuation) stays."""
    digit_chars = (set(DIGIT_WORD.values()) | set(FORMAL.values()) | set(TRADITIONAL.values())
                   | set("幺洞〇0123456789Xx"))
    idx = [i for i, c in enumerate(s) if c in digit_chars]
    keep = set(idx[:keep_head]) | (set(idx[len(idx) - keep_tail :]) if keep_tail else set())
    return "".join("*" if (i in idx and i not in keep) else c for i, c in enumerate(s))


# formal digits
m5 = mobile(R5)
pii(f"手机{formal(m5)}", f"手机{stars_any(formal(m5), 1)}", ["mobile"])
s5 = grp(formal(mobile(R5)), [3, 4, 4])
pii(f"电话 {s5} 谢谢", f"电话 {stars_any(s5, 1)} 谢谢", ["mobile"])
s5 = "".join(TRADITIONAL.get(c, c) for c in formal(mobile(R5)))
pii(f"手機號碼{s5}", f"手機號碼{stars_any(s5, 1)}", ["mobile"])
card5 = bank_card("622848", 19, R5)
pii(f"卡号{formal(card5)}", f"卡号{stars_any(formal(card5), 0, 4)}", ["bank_card"])
s5 = grp(formal(bank_card("621700", 16, R5)), [4, 4, 4, 4])
pii(f"收款账号 {s5}", f"收款账号 {stars_any(s5, 0, 4)}", ["bank_card"])
id5 = resident_id("320102", 1978, 11, 30, R5)
pii(f"身份证号码：{formal(id5)}", f"身份证号码：{stars_any(formal(id5))}", ["resident_id"])
l5 = "010" + "".join(str(R5.randrange(10)) for _ in range(8))
l5 = l5[:3] + str(R5.randrange(2, 10)) + l5[4:]
pii(f"座机{formal(l5)}", f"座机{stars_any(formal(l5), 3)}", ["landline"])
pii("家住中山路捌拾捌号", "家住中山路***号", ["address"])
lookalike("人民币壹仟贰佰元整")
lookalike("大写金额：壹拾贰万叁仟肆佰伍拾陆元柒角捌分")
lookalike("支票金额壹佰贰拾叁万肆仟伍佰陆拾柒元整")
lookalike(f"卡号{formal(wrong_check(bank_card('622848', 19, R5)))}")
lookalike(f"号码{formal(wrong_check(resident_id('320102', 1978, 11, 30, R5)))}")
lookalike(f"订单号{formal(mobile(R5))}")
lookalike("贰零贰肆年叁月拾伍日")
# sentence punctuation between groups read out
m5 = mobile(R5)
s5 = grp(words(m5), [3, 4, 4], "。")
pii(f"电话{s5}", f"电话{stars_any(s5, 1)}", ["mobile"])
s5 = grp(spoken(mobile(R5), 1), [3, 4, 4], "。")
pii(f"我的手机是{s5}，谢谢", f"我的手机是{stars_any(s5, 1)}，谢谢", ["mobile"])
s5 = grp(words(mobile(R5)), [3, 4, 4], ".")
pii(f"号码{s5}", f"号码{stars_any(s5, 1)}", ["mobile"])
s5 = grp(words(mobile(R5)), [7, 4], "。")
pii(f"回拨{s5}。", f"回拨{stars_any(s5, 1)}。", ["mobile"])
s5 = grp(formal(mobile(R5)), [3, 4, 4], "。")
pii(f"手机{s5}", f"手机{stars_any(s5, 1)}", ["mobile"])
s5 = grp(words(resident_id("440301", 1988, 2, 29, R5)), [6, 8, 4], "。")
pii(f"身份证号{s5}", f"身份证号{stars_any(s5)}", ["resident_id"])
s5 = grp(words(bank_card("621226", 16, R5)), [4, 4, 4, 4], "。")
pii(f"卡号{s5}", f"卡号{stars_any(s5, 0, 4)}", ["bank_card"])
s5 = "零一零。" + words("6" + "".join(str(R5.randrange(10)) for _ in range(7)))
pii(f"座机{s5}", f"座机{stars_any(s5, 3)}", ["landline"])
m5 = mobile(R5)
pii(f"电话{words(m5)}。一二三楼都有人", f"电话{stars_any(words(m5), 1)}。一二三楼都有人", ["mobile"])
lookalike("我买了三个。一二三楼都有")
lookalike("买了三。一二三四。五六七八")
lookalike("一楼。二楼。三楼")
lookalike("一二三。一二三。一二三。一二三")
lookalike("价格12.5元，一三八")
s5 = grp(words(bank_card("621226", 16, R5)), [4, 4, 4, 4], "。")
pii(f"卡号{s5}。五六七号来办的", f"卡号{stars_any(s5, 0, 4)}。五六七号来办的", ["bank_card"])
# building and unit numbers in words after a road or an estate
pii("我住中山路三号楼二单元", "我住中山路*号楼*单元", ["address"])
pii("我住中山路3号楼2单元", "我住中山路*号楼*单元", ["address"])
pii("家在幸福小区三栋二单元五零一", "家在幸福小区*栋*单元***", ["address"])
pii("送到阳光花园十二号楼三单元", "送到阳光花园**号楼*单元", ["address"])
pii("地址是人民路叁号楼贰单元", "地址是人民路*号楼*单元", ["address"])
lookalike("小区三栋楼都停电了")
lookalike("中山路三栋楼都停电了")
lookalike("下一单元再讲")
lookalike("住在三单元")
lookalike("这条路三号楼")
lookalike("马路三号楼下有家店")
lookalike("小区一共三栋")
# a mobile with its last four digits in pairs
m5 = mobile(R5)
s5 = grp(m5, [3, 4, 2, 2])
pii(f"电话 {s5}", f"电话 {mask_digits(s5, 1)}", ["mobile"])
lookalike("2024 0315 12 30")

OUT.parent.mkdir(parents=True, exist_ok=True)
with OUT.open("w", encoding="utf-8") as f:
    for row in rows:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
n_pii = sum(not r["lookalike"] for r in rows)
print(f"{len(rows)} rows ({n_pii} with PII, {len(rows) - n_pii} look-alikes) -> {OUT}", file=sys.stderr)
