//! End-to-end tests of `xinsheng label` (issue 7): the real binary, the shipped model in `models/default`,
//! real files in every input format, CSV output, bad rows, SIGKILL-then-resume, `--restart`, and the
//! HTML report rendered by headless Chromium.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn label_cmd(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xinsheng"));
    c.arg("label").arg("--quiet").args(args).current_dir(root());
    for var in [
        "XINSHENG_MODEL",
        "XINSHENG_TEXT_FIELD",
        "XINSHENG_WINDOW",
        "XINSHENG_ENCODING",
        "XINSHENG_RESTART",
    ] {
        c.env_remove(var);
    }
    c
}

fn label(args: &[&str]) -> Output {
    label_cmd(args).output().expect("run xinsheng")
}

fn ok(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stderr).expect("summary JSON on stderr")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn read_jsonl(p: &Path) -> Vec<Value> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("every output line is whole JSON"))
        .collect()
}

/// Hand-written customer-service texts (negative, neutral, positive; one with PII).
const TEXTS: &[&str] = &[
    "我已经打了三次电话了，等了一个星期都没人处理，客服态度还特别差",
    "你好，我想查一下这个月的话费",
    "质量很好，物流也快，下次还来",
    "退款申请提交半个月了还没到账，再不处理我就打12315投诉你们",
    "快递员态度恶劣，把包裹直接扔在门口",
    "价格太贵了，比别家贵了一百多",
    "宽带又断了，这周第三次了，耽误我工作",
    "客服小姐姐很耐心，问题很快就解决了",
    "请问会员怎么续费",
    "我是张伟，电话13812345678，收到的手机屏幕有裂痕",
    "热水器漏电，差点出事，你们必须马上派人来",
    "东西还行吧，一般般",
];

#[test]
fn jsonl_in_jsonl_out_keeps_the_contract_and_writes_summary_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let mut lines = String::new();
    for (i, t) in TEXTS.iter().enumerate() {
        lines.push_str(
            &serde_json::json!({"id": i, "text": t, "day": format!("2024-05-{:02}", i % 5 + 1), "cust": format!("c{}", i % 3)})
                .to_string(),
        );
        lines.push('\n');
    }
    std::fs::write(&input, lines).unwrap();
    let output = dir.path().join("out.jsonl");
    let summary = ok(&label(&[
        "--input",
        s(&input),
        "--output",
        s(&output),
        "--id-field",
        "id",
        "--date-field",
        "day",
        "--customer-field",
        "cust",
    ]));
    assert_eq!(summary["rows"], TEXTS.len());
    assert_eq!(summary["errors"], 0);
    assert_eq!(summary["text_field"], "text");
    let rows = read_jsonl(&output);
    assert_eq!(rows.len(), TEXTS.len());
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["id"], i);
        assert_eq!(r["text"], TEXTS[i], "input fields unchanged");
        let a = &r["analysis"];
        assert!(a["sentiment"]["label"].is_string());
        assert_eq!(a["category_scores"].as_object().unwrap().len(), 5);
        assert!(a["risk"]["priority"].is_string());
    }
    assert_eq!(rows[0]["analysis"]["sentiment"]["label"], "negative");
    assert_eq!(rows[2]["analysis"]["sentiment"]["label"], "positive");
    assert_eq!(rows[3]["analysis"]["risk"]["priority"], "A");
    assert!(!rows[9]["analysis"]["masked_text"]
        .as_str()
        .unwrap()
        .contains("13812345678"));
    // Summary file = what was printed; report beside the output.
    let file: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out.jsonl.summary.json")).unwrap())
            .unwrap();
    assert_eq!(file["rows"], summary["rows"]);
    let total: u64 = file["sentiment"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total, TEXTS.len() as u64);
    let html = std::fs::read_to_string(dir.path().join("out.jsonl.report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<svg"), "charts are inline SVG");
    assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"));
    assert!(html.contains("2024-05-01"), "trend by day");
    assert!(html.contains("扬言找监管"), "reasons are named");
    assert!(
        !html.contains("13812345678"),
        "report shows masked text only"
    );
}

fn csv_rows_check(output: &Path, n: usize) -> Vec<Value> {
    let rows = read_jsonl(output);
    assert_eq!(rows.len(), n);
    for r in &rows {
        assert!(r.get("analysis").is_some(), "{r}");
    }
    rows
}

#[test]
fn csv_with_comma_or_semicolon_and_a_detected_text_column() {
    let dir = tempfile::tempdir().unwrap();
    for (name, d) in [("comma.csv", ','), ("semi.csv", ';'), ("tab.csv", '\t')] {
        let mut body = format!("编号{d}评论{d}日期\n");
        for (i, t) in TEXTS.iter().enumerate() {
            // Quoted fields may hold the delimiter.
            body.push_str(&format!("{i}{d}\"{t}{d} 真的\"{d}2024/6/{}\n", i + 1));
        }
        let input = dir.path().join(name);
        std::fs::write(&input, body).unwrap();
        let output = dir.path().join(format!("{name}.jsonl"));
        let summary = ok(&label(&["--input", s(&input), "--output", s(&output)]));
        assert_eq!(summary["text_field"], "评论", "{name}");
        assert_eq!(
            summary["delimiter"],
            if d == '\t' {
                "tab".to_string()
            } else {
                d.to_string()
            }
        );
        assert_eq!(summary["encoding"], "UTF-8");
        let rows = csv_rows_check(&output, TEXTS.len());
        assert_eq!(rows[4]["编号"], "4");
        assert_eq!(rows[4]["评论"], format!("{}{d} 真的", TEXTS[4]));
        assert_eq!(rows[4]["日期"], "2024/6/5");
    }
}

#[test]
fn gbk_csv_is_detected_and_forced_encodings_work() {
    let dir = tempfile::tempdir().unwrap();
    let mut body = String::from("id,内容\r\n");
    for (i, t) in TEXTS.iter().enumerate() {
        body.push_str(&format!("{i},{t}\r\n"));
    }
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&body);
    assert!(!unmappable);
    let input = dir.path().join("gbk.csv");
    std::fs::write(&input, &gbk).unwrap();
    let output = dir.path().join("out.jsonl");
    let summary = ok(&label(&["--input", s(&input), "--output", s(&output)]));
    assert_eq!(summary["encoding"], "gb18030");
    assert_eq!(summary["errors"], 0);
    let rows = csv_rows_check(&output, TEXTS.len());
    assert_eq!(rows[0]["内容"], TEXTS[0]);
    assert_eq!(rows[0]["analysis"]["sentiment"]["label"], "negative");
    // Forcing UTF-8 on a GBK file: every row is undecodable, kept and counted, and the run finishes.
    let forced = dir.path().join("forced.jsonl");
    let out = label(&[
        "--input",
        s(&input),
        "--output",
        s(&forced),
        "--encoding",
        "utf-8",
        "--text-field",
        "id",
    ]);
    let summary = ok(&out);
    assert_eq!(summary["rows"], TEXTS.len());
    assert_eq!(summary["error_kinds"]["undecodable_bytes"], TEXTS.len());
    // UTF-8 with BOM: the BOM is not part of the first column's name.
    let bom = dir.path().join("bom.csv");
    std::fs::write(&bom, format!("\u{feff}{body}")).unwrap();
    let out_bom = dir.path().join("bom.jsonl");
    let summary = ok(&label(&["--input", s(&bom), "--output", s(&out_bom)]));
    assert_eq!(summary["encoding"], "UTF-8");
    assert_eq!(read_jsonl(&out_bom)[1]["id"], "1");
    let bad = label(&[
        "--input",
        s(&input),
        "--output",
        s(&forced),
        "--encoding",
        "klingon",
        "--restart",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown --encoding"));
}

#[test]
fn xlsx_made_here_first_sheet_or_named_sheet() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("book.xlsx");
    let mut wb = Workbook::new();
    let date_fmt = Format::new().set_num_format("yyyy-mm-dd");
    let sheet = wb.add_worksheet().set_name("反馈").unwrap();
    for (c, h) in ["序号", "客户反馈", "日期"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (i, t) in TEXTS.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_number(r, 0, i as f64).unwrap();
        sheet.write_string(r, 1, *t).unwrap();
        let d = ExcelDateTime::from_ymd(2024, 7, (i % 28) as u8 + 1).unwrap();
        sheet
            .write_datetime_with_format(r, 2, &d, &date_fmt)
            .unwrap();
    }
    // A number in the text column and an empty text cell: bad rows, kept.
    let r = TEXTS.len() as u32 + 1;
    sheet.write_number(r, 0, 100.0).unwrap();
    sheet.write_number(r, 1, 42.0).unwrap();
    sheet.write_number(r + 1, 0, 101.0).unwrap();
    sheet.write_string(r + 1, 2, "2024-07-30").unwrap();
    let second = wb.add_worksheet().set_name("第二页").unwrap();
    second.write_string(0, 0, "text").unwrap();
    second.write_string(1, 0, "发票一直开不出来").unwrap();
    wb.save(&input).unwrap();

    let output = dir.path().join("out.csv");
    let summary = ok(&label(&[
        "--input",
        s(&input),
        "--output",
        s(&output),
        "--date-field",
        "日期",
    ]));
    assert_eq!(summary["text_field"], "客户反馈");
    assert_eq!(summary["rows"], TEXTS.len() + 2);
    assert_eq!(summary["errors"], 2);
    assert_eq!(summary["error_kinds"]["non_text_value"], 1);
    assert_eq!(summary["error_kinds"]["empty_text"], 1);
    let mut rdr = csv::Reader::from_path(&output).unwrap();
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert!(
        std::fs::read(&output).unwrap().starts_with(b"\xEF\xBB\xBF"),
        "UTF-8 BOM for Excel"
    );
    assert_eq!(headers[0].trim_start_matches('\u{feff}'), "序号");
    assert_eq!(&headers[1..3], ["客户反馈", "日期"]);
    let recs: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(recs.len(), TEXTS.len() + 2);
    assert_eq!(&recs[0][0], "0");
    assert_eq!(&recs[0][1], TEXTS[0]);
    assert_eq!(&recs[0][2], "2024-07-01", "dates come out as dates");
    assert_eq!(&recs[0][3], "negative");
    assert!(recs[TEXTS.len()][headers.len() - 1].contains("non-text"));
    let html = std::fs::read_to_string(dir.path().join("out.csv.report.html")).unwrap();
    assert!(html.contains("2024-07-01"));

    let out2 = dir.path().join("second.jsonl");
    let summary = ok(&label(&[
        "--input",
        s(&input),
        "--output",
        s(&out2),
        "--sheet",
        "第二页",
    ]));
    assert_eq!(summary["rows"], 1);
    assert_eq!(read_jsonl(&out2)[0]["text"], "发票一直开不出来");
    let bad = label(&[
        "--input",
        s(&input),
        "--output",
        s(&out2),
        "--sheet",
        "nope",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("第二页"));
}

#[test]
fn csv_output_flattens_the_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.csv");
    let summary = ok(&label(&[
        "--input",
        "tests/data/label_input.jsonl",
        "--output",
        s(&output),
    ]));
    assert_eq!(summary["rows"], 7);
    let mut rdr = csv::Reader::from_path(&output).unwrap();
    let headers: Vec<String> = rdr
        .headers()
        .unwrap()
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    for c in [
        "id",
        "text",
        "sentiment",
        "sentiment_score",
        "emotion",
        "categories",
        "escalate",
        "priority",
        "reasons",
        "keywords",
        "masked_text",
        "error",
    ] {
        assert!(headers.contains(&c.to_string()), "{c} in {headers:?}");
    }
    let recs: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(recs.len(), 7);
    assert_eq!(&recs[0][col("id")], "1");
    assert_eq!(&recs[0][col("sentiment")], "negative");
    assert!(recs[0][col("sentiment_score")].parse::<f64>().unwrap() > 0.5);
    assert_eq!(&recs[0][col("error")], "");
    assert_eq!(&recs[4][col("error")], "text is empty");
    assert_eq!(&recs[4][col("sentiment")], "");
    // The conversation row: priority A, reasons joined with `;`.
    assert_eq!(&recs[5][col("priority")], "A");
    assert!(recs[5][col("reasons")].contains("regulator_threat"));
    assert_eq!(&recs[5][col("escalate")], "true");
}

#[test]
fn bad_rows_are_kept_counted_and_never_stop_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bad.csv");
    let mut bytes = b"id,text\n1,\xe5\xa4\xaa\xe6\x85\xa2\xe4\xba\x86\n".to_vec(); // 太慢了
    bytes.extend_from_slice(b"2,\n"); // empty text
    bytes.extend_from_slice(b"3,too,many,fields\n"); // broken line
    bytes.extend_from_slice(b"4,\xff\xfe bad bytes\n"); // undecodable
    bytes.extend_from_slice("5,客服态度很好\n".as_bytes());
    std::fs::write(&input, &bytes).unwrap();
    let output = dir.path().join("out.jsonl");
    let summary = ok(&label(&["--input", s(&input), "--output", s(&output)]));
    assert_eq!(summary["encoding"], "UTF-8", "mostly UTF-8 stays UTF-8");
    assert_eq!(summary["rows"], 5);
    assert_eq!(summary["errors"], 3);
    assert_eq!(summary["error_kinds"]["empty_text"], 1);
    assert_eq!(summary["error_kinds"]["broken_line"], 1);
    assert_eq!(summary["error_kinds"]["undecodable_bytes"], 1);
    let rows = read_jsonl(&output);
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["1", "2", "3", "4", "5"],
        "order kept, nothing dropped"
    );
    assert!(rows[0]["analysis"].is_object());
    assert!(rows[2]["error"]
        .as_str()
        .unwrap()
        .contains("broken CSV line"));
    assert_eq!(rows[2]["_extra"], serde_json::json!(["many", "fields"]));
    assert!(rows[4]["analysis"].is_object());

    let jsonl = dir.path().join("bad.jsonl");
    std::fs::write(
        &jsonl,
        b"{\"text\": \"\xe5\xa5\xbd\"}\n{broken\n\n[1]\n{\"text\": 5}\n{\"text\": \"\xff\"}\n",
    )
    .unwrap();
    let out2 = dir.path().join("out2.jsonl");
    let summary = ok(&label(&["--input", s(&jsonl), "--output", s(&out2)]));
    assert_eq!(summary["rows"], 6, "the blank line is a row");
    assert_eq!(summary["errors"], 5);
    assert_eq!(summary["error_kinds"]["empty_line"], 1);
    assert_eq!(summary["error_kinds"]["broken_line"], 2);
    assert_eq!(summary["error_kinds"]["non_text_value"], 1);
    assert_eq!(summary["error_kinds"]["undecodable_bytes"], 1);

    // Whole-file problems are clear errors (exit 2), not panics.
    let none = label(&["--input", "no/such.csv", "--output", s(&out2)]);
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no/such.csv"));
    let pdf = label(&["--input", "x.pdf", "--output", s(&out2)]);
    assert_eq!(pdf.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&pdf.stderr).contains("unsupported input type"));
    let nocol = dir.path().join("nocol.csv");
    std::fs::write(&nocol, "a,b\n1,2\n").unwrap();
    let out = label(&["--input", s(&nocol), "--output", s(&out2)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--text-field"));
}

fn big_input(dir: &Path, n: usize) -> PathBuf {
    let input = dir.join("big.jsonl");
    let mut body = String::new();
    for i in 0..n {
        body.push_str(
            &serde_json::json!({"n": i, "text": format!("{}（{i}）", TEXTS[i % TEXTS.len()])})
                .to_string(),
        );
        body.push('\n');
    }
    std::fs::write(&input, body).unwrap();
    input
}

fn journal(output: &Path) -> Value {
    let p = PathBuf::from(format!("{}.journal", output.display()));
    std::fs::read(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null)
}

/// Makes a finished JSONL run look killed after `rows` rows: the journal records only them, so the next run
/// labels the rest again (as after a kill between the output write and the journal write).
fn rewind_journal(output: &Path, rows: usize) {
    let mut j = journal(output);
    let bytes: usize = std::fs::read_to_string(output)
        .unwrap()
        .split_inclusive('\n')
        .take(rows)
        .map(str::len)
        .sum();
    j["rows_done"] = rows.into();
    j["output_bytes"] = bytes.into();
    j["complete"] = false.into();
    std::fs::write(format!("{}.journal", output.display()), j.to_string()).unwrap();
}

#[test]
fn sigkill_then_rerun_resumes_with_every_row_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let n = 2000;
    let input = big_input(dir.path(), n);
    let output = dir.path().join("out.jsonl");
    let args = [
        "--input",
        s(&input),
        "--output",
        s(&output),
        "--window",
        "25",
    ];
    let mut child = label_cmd(&args)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill -9 once a few chunks are journaled.
    let started = std::time::Instant::now();
    loop {
        let done = journal(&output)["rows_done"].as_u64().unwrap_or(0);
        if done >= 200 {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 1200,
            "the run made no progress"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before the kill"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let j = journal(&output);
    let done = j["rows_done"].as_u64().unwrap() as usize;
    assert!(done < n && j["complete"] == false, "killed mid-run: {j}");
    let len = std::fs::metadata(&output).unwrap().len();
    assert!(len >= j["output_bytes"].as_u64().unwrap());

    // Different options or input: refused with a clear message, nothing touched.
    let other = label(&[
        "--input",
        s(&input),
        "--output",
        s(&output),
        "--text-field",
        "n",
    ]);
    assert_eq!(other.status.code(), Some(2));
    let msg = String::from_utf8_lossy(&other.stderr);
    assert!(
        msg.contains("text field") && msg.contains("--restart"),
        "{msg}"
    );

    // The same command again: resumes.
    let summary = ok(&label(&args));
    assert_eq!(summary["resumed_at_row"], done);
    assert_eq!(summary["rows_this_run"], n - done);
    assert_eq!(summary["rows"], n);
    assert_eq!(summary["errors"], 0);
    let rows = read_jsonl(&output);
    assert_eq!(rows.len(), n, "no row lost or duplicated");
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["n"], i, "order kept");
        assert!(r["analysis"]["sentiment"]["label"].is_string());
    }
    assert_eq!(journal(&output)["complete"], true);
    // A rerun of a finished run labels nothing again.
    let again = ok(&label(&args));
    assert_eq!(again["rows_this_run"], 0);
    assert_eq!(read_jsonl(&output).len(), n);
}

#[test]
fn restart_starts_over_and_changed_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = big_input(dir.path(), 30);
    let output = dir.path().join("out.csv");
    let args = ["--input", s(&input), "--output", s(&output)];
    ok(&label(&args));
    let first = std::fs::read(&output).unwrap();
    // The input changes: the old output belongs to another run.
    big_input(dir.path(), 31);
    let out = label(&args);
    assert_eq!(out.status.code(), Some(2));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(
        msg.contains("input file content") && msg.contains("--restart"),
        "{msg}"
    );
    assert_eq!(
        std::fs::read(&output).unwrap(),
        first,
        "refusal touches nothing"
    );
    let mut restart = args.to_vec();
    restart.push("--restart");
    let summary = ok(&label(&restart));
    assert_eq!(summary["rows"], 31);
    assert_eq!(summary["resumed_at_row"], 0);
    let recs = csv::Reader::from_path(&output).unwrap().records().count();
    assert_eq!(recs, 31);
}

/// Headless Chromium renders the report; the screenshot is a real page (many colours, mostly not blank).
#[test]
fn report_renders_in_headless_chromium() {
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        })
        .unwrap_or_else(|| {
            panic!(
                "headless Chromium is needed to check the report renders; install it with \
                 `apt-get install -y chromium` (Debian) and rerun"
            )
        });
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let mut body = String::new();
    for i in 0..60 {
        body.push_str(
            &serde_json::json!({"id": format!("T{i:03}"), "text": TEXTS[i % TEXTS.len()], "date": format!("2024-03-{:02}", i % 20 + 1)})
                .to_string(),
        );
        body.push('\n');
    }
    body.push_str("{not json\n");
    std::fs::write(&input, body).unwrap();
    let output = dir.path().join("out.jsonl");
    ok(&label(&[
        "--input",
        s(&input),
        "--output",
        s(&output),
        "--id-field",
        "id",
        "--date-field",
        "date",
    ]));
    let report = dir.path().join("out.jsonl.report.html");
    let png = dir.path().join("shot.png");
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1280,2400",
            &format!("--screenshot={}", png.display()),
            &format!("file://{}", report.display()),
        ])
        .output()
        .unwrap();
    assert!(
        png.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert!(info.width >= 800 && info.height >= 1200, "{info:?}");
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    let colours: std::collections::HashSet<&[u8]> = pixels.iter().copied().collect();
    let first = pixels[0];
    let different = pixels.iter().filter(|p| **p != first).count();
    assert!(colours.len() > 50, "only {} colours", colours.len());
    assert!(
        different * 10 > pixels.len(),
        "the page is mostly one colour"
    );
    // The chart colours are on the page: negative red and the header blue.
    let has = |rgb: [u8; 3]| {
        pixels
            .iter()
            .any(|p| (0..3).all(|i| p[i].abs_diff(rgb[i]) <= 6))
    };
    assert!(has([0xe5, 0x53, 0x4b]), "negative sentiment colour drawn");
    assert!(has([0x2d, 0xa4, 0x4e]), "positive sentiment colour drawn");
}

#[test]
fn rows_labeled_again_after_a_kill_are_one_contact_each_in_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let texts = &TEXTS[..6];
    let lines: String = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            format!(
                "{}\n",
                serde_json::json!({"text": t, "cust": format!("c{}", i % 2)})
            )
        })
        .collect();
    std::fs::write(&input, lines).unwrap();
    let output = dir.path().join("out.jsonl");
    let data = dir.path().join("data");
    let args = [
        "--data-dir",
        s(&data),
        "--input",
        s(&input),
        "--output",
        s(&output),
        "--customer-field",
        "cust",
        "--window",
        "2",
    ];
    ok(&label(&args));
    // As after a kill between the history writes and the journal write: the journal has not recorded the
    // last two chunks, so the rerun analyzes their rows (and passes them to the history) again.
    rewind_journal(&output, 2);
    let summary = ok(&label(&args));
    assert_eq!(summary["resumed_at_row"], 2);
    assert_eq!(read_jsonl(&output).len(), texts.len());
    for c in ["c0", "c1"] {
        let out = Command::new(env!("CARGO_BIN_EXE_xinsheng"))
            .args(["--data-dir", s(&data), "customer", c])
            .output()
            .unwrap();
        let state: Value = serde_json::from_slice(&out.stdout).expect("customer JSON");
        assert_eq!(state["contacts"], 3, "{c}: one contact per row: {state}");
    }
}

#[test]
fn the_input_under_another_name_is_refused_and_left_whole() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("same.csv");
    let content = "id,text\n1,太差了\n2,谢谢\n3,很好\n";
    std::fs::write(&input, content).unwrap();
    let symlink = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&input, &symlink).unwrap();
    let hardlink = dir.path().join("hard.csv");
    std::fs::hard_link(&input, &hardlink).unwrap();
    let dotted = dir.path().join(".").join("same.csv");
    let via_parent = dir.path().join("sub").join("..").join("same.csv");
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    for output in [&dotted, &via_parent, &symlink, &hardlink] {
        let mut child = label_cmd(&["--input", s(&input), "--output", s(output), "--window", "2"])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            if started.elapsed().as_secs() > 120 {
                child.kill().unwrap();
                panic!(
                    "{}: still running (labeling its own output)",
                    output.display()
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
        assert_eq!(status.code(), Some(2), "{}: {err}", output.display());
        assert!(err.contains("same file"), "{err}");
        assert_eq!(std::fs::read_to_string(&input).unwrap(), content);
    }
}

#[test]
fn a_resume_with_other_analysis_settings_is_refused_and_the_model_by_another_path_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let lines: String = TEXTS[..4]
        .iter()
        .map(|t| format!("{}\n", serde_json::json!({ "text": t })))
        .collect();
    std::fs::write(&input, lines).unwrap();
    let output = dir.path().join("out.jsonl");
    let base = [
        "--input",
        s(&input),
        "--output",
        s(&output),
        "--window",
        "2",
    ];
    let with = |extra: &[&str]| {
        let mut args: Vec<&str> = extra.to_vec();
        args.extend_from_slice(&base);
        label(&args)
    };
    ok(&with(&["--engine", "f32"]));
    // As after a kill with two rows done.
    rewind_journal(&output, 2);
    let policy = dir.path().join("policy.toml");
    let text = std::fs::read_to_string(root().join("models/default/policy.toml")).unwrap();
    std::fs::write(&policy, format!("{text}\n# edited\n")).unwrap();
    for (extra, what) in [
        (vec!["--engine", "candle"], "engine"),
        (
            vec!["--engine", "f32", "--pii-allow", "13812345678"],
            "PII allow list",
        ),
        (
            vec!["--engine", "f32", "--policy", s(&policy)],
            "risk policy",
        ),
    ] {
        let out = with(&extra);
        let msg = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {msg}");
        assert!(msg.contains(what) && msg.contains("--restart"), "{msg}");
    }
    // The same model by another spelling resumes.
    let absolute = root().join("models/default");
    let slash = format!("{}/", absolute.display());
    for model in ["models/default/", absolute.to_str().unwrap(), &slash] {
        let out = with(&["--engine", "f32", "--model", model]);
        let summary = ok(&out);
        assert_eq!(summary["resumed_at_row"], 2, "{model}");
        assert_eq!(read_jsonl(&output).len(), 4);
        rewind_journal(&output, 2);
    }
}

#[test]
fn input_columns_named_like_output_fields_a_turns_column_a_runaway_quote_and_a_bom() {
    let dir = tempfile::tempdir().unwrap();
    // Columns the output also writes (`error`, `sentiment`), and a `turns` column that is not a conversation.
    let input = dir.path().join("in.csv");
    std::fs::write(
        &input,
        "id,turns,error,sentiment,text\n1,3,旧错误,差评,等了一个星期都没人处理\n2,1,,好评,质量很好\n",
    )
    .unwrap();
    let csv_out = dir.path().join("out.csv");
    let summary = ok(&label(&[
        "--input",
        s(&input),
        "--output",
        s(&csv_out),
        "--text-field",
        "text",
    ]));
    assert_eq!(summary["errors"], 0, "{summary}");
    let text = std::fs::read_to_string(&csv_out).unwrap();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let mut unique = header.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), header.len(), "duplicate names: {header:?}");
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(&rows[0][col("input_error")], "旧错误");
    assert_eq!(&rows[0][col("input_sentiment")], "差评");
    assert_eq!(&rows[0][col("turns")], "3");
    assert_eq!(&rows[0][col("error")], "");
    assert_eq!(&rows[0][col("sentiment")], "negative");
    let jsonl_out = dir.path().join("out.jsonl");
    ok(&label(&["--input", s(&input), "--output", s(&jsonl_out)]));
    let rows = read_jsonl(&jsonl_out);
    assert_eq!(rows[0]["input_error"], "旧错误");
    assert!(rows[0].get("error").is_none() && rows[0]["analysis"].is_object());

    // A quote that is never closed swallows the rest of the file: reported, not silent.
    let runaway = dir.path().join("runaway.csv");
    std::fs::write(&runaway, "id,text\n1,\"太差了\n2,谢谢\n3,很好\n").unwrap();
    let out = dir.path().join("runaway.jsonl");
    let summary = ok(&label(&["--input", s(&runaway), "--output", s(&out)]));
    assert_eq!(summary["errors"], 1, "{summary}");
    let rows = read_jsonl(&out);
    assert!(
        rows[0]["error"].as_str().unwrap().contains("never closed"),
        "{}",
        rows[0]
    );
    // A quoted field over several lines that is closed is one good row.
    let closed = dir.path().join("closed.csv");
    std::fs::write(&closed, "id,text\n1,\"太差了\n真的太差了\"\n").unwrap();
    let out = dir.path().join("closed.jsonl");
    let summary = ok(&label(&["--input", s(&closed), "--output", s(&out)]));
    assert_eq!(summary["errors"], 0, "{summary}");

    // A JSONL file that starts with a byte order mark: its first row is a row.
    let bom = dir.path().join("bom.jsonl");
    std::fs::write(
        &bom,
        "\u{feff}{\"text\": \"太差了，再也不买了\", \"sentiment\": \"negative\"}\n{\"text\": \"很好，谢谢\", \"sentiment\": \"positive\"}\n",
    )
    .unwrap();
    let out = dir.path().join("bom_out.jsonl");
    let summary = ok(&label(&["--input", s(&bom), "--output", s(&out)]));
    assert_eq!(summary["errors"], 0, "{summary}");
    let eval = Command::new(env!("CARGO_BIN_EXE_xinsheng"))
        .args(["eval", "--data", s(&bom)])
        .current_dir(root())
        .env_remove("XINSHENG_MODEL")
        .output()
        .unwrap();
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    let report: Value = serde_json::from_slice(&eval.stdout).unwrap();
    assert_eq!(report["examples"], 2, "{report}");
}

#[test]
fn a_history_that_cannot_be_written_stops_the_run_and_a_bad_customer_id_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let long_id = "c".repeat(200);
    let lines: String = TEXTS[..4]
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let cust = if i == 2 {
                long_id.clone()
            } else {
                format!("c{i}")
            };
            format!("{}\n", serde_json::json!({"text": t, "cust": cust}))
        })
        .collect();
    std::fs::write(&input, lines).unwrap();
    let output = dir.path().join("out.jsonl");
    // A data directory that is a file: the history cannot be opened.
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, "x").unwrap();
    let args = |data: &Path| {
        label(&[
            "--data-dir",
            s(data),
            "--input",
            s(&input),
            "--output",
            s(&output),
            "--customer-field",
            "cust",
        ])
    };
    let failed = args(&not_a_dir);
    let msg = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(1), "{msg}");
    assert!(msg.contains("customer history"), "{msg}");
    // With a usable store the same command resumes and finishes; the long id is counted, not stored.
    let data = dir.path().join("data");
    let summary = ok(&args(&data));
    assert_eq!(summary["rows"], 4);
    assert_eq!(summary["errors"], 0);
    assert_eq!(summary["history_skipped"], 1, "{summary}");
    assert!(
        summary["history_note"].as_str().unwrap().contains("row 3"),
        "{summary}"
    );
}

/// A run without `--quiet`: its stderr holds the start notes, the closing lines and then the summary JSON.
fn label_loud(args: &[&str]) -> (Output, String, Value) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xinsheng"));
    c.arg("label").args(args).current_dir(root());
    for var in ["XINSHENG_MODEL", "XINSHENG_TEXT_FIELD", "XINSHENG_RESTART"] {
        c.env_remove(var);
    }
    let out = c.output().expect("run xinsheng");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "exit {:?}: {err}", out.status.code());
    let at = err
        .find("\n{\n")
        .expect("summary JSON at the end of stderr");
    let summary = serde_json::from_str(&err[at + 1..]).expect("summary JSON");
    (out, err[..at].to_string(), summary)
}

/// Audit ux37 D1: a help-desk export `工单号,日期,客户反馈内容,备注` was labeled from `备注` (mostly `无`).
#[test]
fn the_feedback_column_beats_a_remarks_column_and_the_choice_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let texts = [
        "快递三天了还没到，打电话也没人接",
        "东西很好，谢谢客服",
        "你们再不退款我就去12315投诉",
        "",
        "价格比别家贵了一倍，坑人",
    ];
    let mut body = String::from("工单号,日期,客户反馈内容,备注\n");
    for (i, t) in texts.iter().enumerate() {
        body.push_str(&format!("T{i:03},2026-11-0{},{t},无\n", i + 1));
    }
    let input = dir.path().join("u8.csv");
    std::fs::write(&input, &body).unwrap();
    let output = dir.path().join("u8.out.jsonl");
    let (_, notes, summary) = label_loud(&["--input", s(&input), "--output", s(&output)]);
    assert_eq!(summary["text_field"], "客户反馈内容");
    assert!(
        notes.contains("text column: \"客户反馈内容\"") && notes.contains("passed over: \"备注\""),
        "{notes}"
    );
    let rows = read_jsonl(&output);
    assert_eq!(rows[1]["analysis"]["sentiment"]["label"], "positive");
    assert_eq!(rows[1]["analysis"]["masked_text"], texts[1]);
    assert_eq!(
        rows[3]["error"], "text is empty",
        "the empty feedback is the error"
    );
    assert_eq!(summary["errors"], 1);
    // --quiet prints the summary only (the tests' `ok` parses the whole stderr as JSON).
    let quiet = ok(&label(&[
        "--input",
        s(&input),
        "--output",
        s(&output),
        "--restart",
    ]));
    assert_eq!(quiet["text_field"], "客户反馈内容");

    // Two equally plausible columns: exit 2, naming both and --text-field; nothing written.
    let two = dir.path().join("two.csv");
    std::fs::write(&two, "工单号,客户反馈内容,客服回复内容\n1,太慢了,抱歉\n").unwrap();
    let out2 = dir.path().join("two.out.jsonl");
    let refused = label(&["--input", s(&two), "--output", s(&out2)]);
    let msg = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{msg}");
    assert!(
        msg.contains("客户反馈内容")
            && msg.contains("客服回复内容")
            && msg.contains("--text-field"),
        "{msg}"
    );
    assert!(!out2.exists());
    let chosen = ok(&label(&[
        "--input",
        s(&two),
        "--output",
        s(&out2),
        "--text-field",
        "客户反馈内容",
    ]));
    assert_eq!(chosen["errors"], 0);
}

/// Audit ux37 D2: JSONL → CSV dropped the fields first seen after the first chunk (exit 0).
#[test]
fn jsonl_to_csv_keeps_fields_first_seen_late_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("late.jsonl");
    let mut body = String::new();
    for i in 0..6 {
        let mut row =
            serde_json::json!({"id": i, "text": if i % 2 == 0 { "很满意" } else { "快递太慢了" }});
        if i == 4 {
            row["vip"] = "金卡".into();
            row["phone"] = "13812345678".into();
        }
        body.push_str(&format!("{row}\n"));
    }
    std::fs::write(&input, &body).unwrap();
    let output = dir.path().join("late.out.csv");
    let args = [
        "--input",
        s(&input),
        "--output",
        s(&output),
        "--window",
        "2",
    ];
    let summary = ok(&label(&args));
    assert_eq!(summary["rows"], 6);
    let read = || {
        let mut r = csv::Reader::from_path(&output).unwrap();
        let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
        let recs: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        (header, recs)
    };
    let (header, recs) = read();
    assert_eq!(
        header[..4],
        ["id", "text", "vip", "phone"],
        "every field of the file is a column"
    );
    assert_eq!(&recs[4][2], "金卡");
    assert_eq!(&recs[4][3], "13812345678");
    assert_eq!(&recs[3][2], "", "a row without the field leaves it empty");
    let whole = std::fs::read(&output).unwrap();

    // Killed after 2 rows (journal rewound): the rerun resumes and the output is the same.
    let mut j = journal(&output);
    let text = String::from_utf8(whole.clone()).unwrap();
    let bytes: usize = text.split_inclusive('\n').take(3).map(str::len).sum();
    j["rows_done"] = 2.into();
    j["output_bytes"] = bytes.into();
    j["complete"] = false.into();
    let jpath = format!("{}.journal", output.display());
    std::fs::write(&jpath, j.to_string()).unwrap();
    let resumed = ok(&label(&args));
    assert_eq!(resumed["resumed_at_row"], 2);
    assert_eq!(std::fs::read(&output).unwrap(), whole);

    // A journal of an earlier version (columns of the first chunk only) is refused, not continued.
    let mut old = j.clone();
    old["columns"] = serde_json::json!(["id", "text"]);
    std::fs::write(&jpath, old.to_string()).unwrap();
    let refused = label(&args);
    let msg = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{msg}");
    assert!(msg.contains("vip") && msg.contains("--restart"), "{msg}");
}

/// Audit ux37 D5: an existing output with no journal was silently replaced.
#[test]
fn an_output_file_label_did_not_write_is_not_overwritten_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    let input = big_input(dir.path(), 3);
    for name in ["existing.out.jsonl", "existing.out.csv"] {
        let output = dir.path().join(name);
        std::fs::write(&output, "旧文件\n").unwrap();
        let args = ["--input", s(&input), "--output", s(&output)];
        let refused = label(&args);
        let msg = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(2), "{msg}");
        assert!(msg.contains(name) && msg.contains("--restart"), "{msg}");
        assert_eq!(std::fs::read_to_string(&output).unwrap(), "旧文件\n");
        assert!(!dir.path().join(format!("{name}.journal")).exists());
        let mut restart = args.to_vec();
        restart.push("--restart");
        assert_eq!(ok(&label(&restart))["rows"], 3);
        // Its own output (journal beside it) is resumed or rewritten as before.
        assert_eq!(ok(&label(&args))["rows_this_run"], 0);
    }
    // An empty file (`mktemp`, `touch`) holds nothing to lose.
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    assert_eq!(
        ok(&label(&["--input", s(&input), "--output", s(&empty)]))["rows"],
        3
    );
}

/// Audit ux37 D6: blank JSONL lines vanished, so output line N was no longer input line N.
#[test]
fn blank_jsonl_lines_are_rows_so_line_numbers_match() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("blank.jsonl");
    std::fs::write(
        &input,
        "{\"text\":\"好\"}\n\n{\"text\":\"差\"}\n   \r\n{\"text\":\"一般\"}\n",
    )
    .unwrap();
    let output = dir.path().join("blank.out.jsonl");
    let args = ["--input", s(&input), "--output", s(&output)];
    let summary = ok(&label(&args));
    assert_eq!(summary["rows"], 5);
    assert_eq!(summary["errors"], 2);
    assert_eq!(summary["error_kinds"]["empty_line"], 2);
    let rows = read_jsonl(&output);
    assert_eq!(rows.len(), 5, "one output line per input line");
    assert_eq!(rows[2]["text"], "差");
    assert_eq!(rows[4]["text"], "一般");
    for i in [1, 3] {
        assert!(
            rows[i]["error"].as_str().unwrap().starts_with("empty line"),
            "{}",
            rows[i]
        );
        assert_eq!(rows[i].as_object().unwrap().len(), 1);
    }
    // The same in a CSV output.
    let csv_out = dir.path().join("blank.out.csv");
    ok(&label(&["--input", s(&input), "--output", s(&csv_out)]));
    let recs: Vec<csv::StringRecord> = csv::Reader::from_path(&csv_out)
        .unwrap()
        .records()
        .map(Result::unwrap)
        .collect();
    assert_eq!(recs.len(), 5);
    assert!(recs[1]
        .iter()
        .next_back()
        .unwrap()
        .starts_with("empty line"));

    // A run started by an earlier version (which skipped blank lines, so its row counts do not match)
    // is refused rather than resumed out of step.
    let mut j = journal(&output);
    j.as_object_mut().unwrap().remove("blank_lines_are_rows");
    j["complete"] = false.into();
    std::fs::write(format!("{}.journal", output.display()), j.to_string()).unwrap();
    let refused = label(&args);
    let msg = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{msg}");
    assert!(
        msg.contains("blank lines") && msg.contains("--restart"),
        "{msg}"
    );
    // Without blank lines in the input, such a journal still resumes.
    let plain = big_input(dir.path(), 4);
    let out2 = dir.path().join("plain.out.jsonl");
    let args2 = ["--input", s(&plain), "--output", s(&out2)];
    ok(&label(&args2));
    let mut j = journal(&out2);
    j.as_object_mut().unwrap().remove("blank_lines_are_rows");
    std::fs::write(format!("{}.journal", out2.display()), j.to_string()).unwrap();
    rewind_journal(&out2, 2);
    assert_eq!(ok(&label(&args2))["resumed_at_row"], 2);
    assert_eq!(read_jsonl(&out2).len(), 4);
}

/// Audit ux37 C6: the report's bad-row examples printed a phone number from an error message.
#[test]
fn error_messages_never_echo_pii_into_the_output_or_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("pii.jsonl");
    std::fs::write(
        &input,
        concat!(
            "{\"id\":1,\"text\":\"我的电话13812345678，快递丢了\"}\n",
            "{\"id\":2,\"text\":13712345678}\n",
            "{\"id\":3,\"turns\":[{\"speaker\":\"customer\",\"text\":13912345678}]}\n",
            "{\"id\":4,\"text\":[\"15012345678\"]}\n",
        ),
    )
    .unwrap();
    for name in ["pii.out.jsonl", "pii.out.csv"] {
        let output = dir.path().join(name);
        let summary = ok(&label(&["--input", s(&input), "--output", s(&output)]));
        assert_eq!(summary["errors"], 3);
        assert_eq!(summary["error_kinds"]["non_text_value"], 2, "{summary}");
        let report =
            std::fs::read_to_string(dir.path().join(format!("{name}.report.html"))).unwrap();
        for phone in ["13812345678", "13712345678", "13912345678", "15012345678"] {
            assert!(!report.contains(phone), "{name}: {phone} in the report");
        }
        assert!(report.contains("non-text value (a number) in field `text`"));
        assert!(report.contains("non-text value (a list) in field `text`"));
        if name.ends_with(".jsonl") {
            let rows = read_jsonl(&output);
            for r in &rows[1..] {
                let e = r["error"].as_str().unwrap();
                assert!(!e.contains("123456"), "{e}");
            }
            // The input fields stay unchanged: the output holds the input's numbers in them.
            assert_eq!(rows[1]["text"], 13712345678u64);
        } else {
            let mut r = csv::Reader::from_path(&output).unwrap();
            for rec in r.records().skip(1) {
                let e = rec.unwrap().iter().next_back().unwrap().to_string();
                assert!(!e.is_empty() && !e.contains("123456"), "{e}");
            }
        }
    }
}

/// Audit ux37 C7: CSV output cells starting with `=`, `+`, `@` ran as formulas in Excel.
#[test]
fn csv_output_neutralises_formulas_but_keeps_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("formula.csv");
    std::fs::write(
        &input,
        concat!(
            "id,text,score\n",
            "1,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"点我\"\")客服态度差\",-0.5\n",
            "2,\"+1+1 退款太慢\",+3\n",
            "3,\"@SUM(1,1) 差评\",=1\n",
            "4,\"-我要投诉，电话13812345678\",7\n",
        ),
    )
    .unwrap();
    let output = dir.path().join("formula.out.csv");
    let summary = ok(&label(&[
        "--input",
        s(&input),
        "--output",
        s(&output),
        "--id-field",
        "id",
    ]));
    assert_eq!(summary["errors"], 0);
    let mut r = csv::Reader::from_path(&output).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let recs: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    for (i, first) in ["=", "+", "@", "-"].iter().enumerate() {
        for c in ["text", "masked_text"] {
            let cell = &recs[i][col(c)];
            assert!(cell.starts_with(&format!("'{first}")), "{c}: {cell}");
        }
    }
    assert!(recs[3][col("masked_text")].starts_with("'-我要投诉"));
    assert!(!recs[3][col("masked_text")].contains("13812345678"));
    // Numbers stay numbers; a text that is a formula does not.
    assert_eq!(&recs[0][col("score")], "-0.5");
    assert_eq!(&recs[1][col("score")], "+3");
    assert_eq!(&recs[2][col("score")], "'=1");
    // The report reads the cells back as the texts they are.
    let report = std::fs::read_to_string(dir.path().join("formula.out.csv.report.html")).unwrap();
    assert!(report.contains("@SUM(1,1)"));
    assert!(!report.contains("&#39;@SUM") && !report.contains("&#39;=HYPERLINK"));
}

/// Audit ux37 C8: a mistyped --text-field on JSONL made every row an error with exit 0 (CSV and xlsx: exit 2).
#[test]
fn a_jsonl_text_field_in_no_row_of_the_first_chunk_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = big_input(dir.path(), 5);
    let output = dir.path().join("tf.out.jsonl");
    let refused = label(&[
        "--input",
        s(&input),
        "--output",
        s(&output),
        "--text-field",
        "nope",
    ]);
    let msg = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{msg}");
    assert!(
        msg.contains("--text-field \"nope\"") && msg.contains("\"n\"") && msg.contains("\"text\""),
        "{msg}"
    );
    assert!(!output.exists());
    // No text-like field at all: refused too, pointing to --text-field.
    let odd = dir.path().join("odd.jsonl");
    std::fs::write(&odd, "{\"a\":\"好\"}\n{\"a\":\"差\"}\n").unwrap();
    let msg = label(&["--input", s(&odd), "--output", s(&output)]);
    assert_eq!(msg.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&msg.stderr).contains("--text-field"));
    // A field some rows lack still labels (those rows get `no field`), and conversations need no text field.
    let mixed = dir.path().join("mixed.jsonl");
    std::fs::write(
        &mixed,
        concat!(
            "{\"a\":\"x\"}\n",
            "{\"正文\":\"太慢了\"}\n",
            "{\"turns\":[{\"speaker\":\"customer\",\"text\":\"在吗\"}]}\n",
        ),
    )
    .unwrap();
    let summary = ok(&label(&["--input", s(&mixed), "--output", s(&output)]));
    assert_eq!(summary["text_field"], "正文");
    assert_eq!(summary["error_kinds"]["missing_field"], 1);
    let conv = dir.path().join("conv.jsonl");
    std::fs::write(
        &conv,
        "{\"turns\":[{\"speaker\":\"customer\",\"text\":\"在吗\"}]}\n",
    )
    .unwrap();
    let summary = ok(&label(&[
        "--input",
        s(&conv),
        "--output",
        s(&dir.path().join("conv.out.jsonl")),
    ]));
    assert_eq!(summary["errors"], 0);
}
