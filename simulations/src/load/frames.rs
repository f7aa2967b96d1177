//! Frames rendered once and filled in per message: the load generator must not be the
//! ceiling of what it measures (#20 item 3). A MeterValues (or 2.0.1 TransactionEvent) is
//! built and serialised once per connection with marker values; each message splices the
//! message id, the time, the register and the sequence number into the rendered text.

use std::fmt::Write;

use chrono::{DateTime, TimeZone, Utc};

/// What changes from one message to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Id,
    Timestamp,
    Register,
    SeqNo,
}

/// The values spliced into one message.
#[derive(Debug, Clone, Copy)]
pub struct Fill<'a> {
    /// The CALL's message id.
    pub id: &'a str,
    /// The sample time, already formatted as OCPP writes it.
    pub timestamp: &'a str,
    /// The energy register, Wh (written in whole Wh, as the simulated chargers do).
    pub register_wh: f64,
    /// 2.0.1: the event's sequence number.
    pub seq_no: u64,
}

/// A rendered frame split around its changing values.
#[derive(Debug, Clone)]
pub struct Template {
    literals: Vec<String>,
    slots: Vec<Slot>,
}

/// The message id written into a template's first rendering.
pub const MARK_ID: &str = "IDMARK7f3";
/// The register written into a template's first rendering (whole Wh, as the simulated
/// chargers write it).
pub const MARK_REGISTER: f64 = 987_654_321.0;
/// The sequence number written into a template's first rendering.
pub const MARK_SEQ_NO: u64 = 8_765_432_109;

/// The time written into a template's first rendering.
pub fn mark_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2001, 2, 3, 4, 5, 6)
        .single()
        .unwrap_or_default()
}

impl Template {
    /// Splits `text`, a frame rendered with the markers, at each marker. A marker that does not
    /// occur is simply never filled in.
    pub fn new(text: &str) -> Template {
        let time = format!("\"{}\"", chargegrid_ocpp::timestamp::format(mark_time()));
        let marks = [
            (format!("\"{MARK_ID}\""), Slot::Id),
            (time, Slot::Timestamp),
            // 1.6 writes the number as text, 2.0.1 as a number: the digits are the same.
            (format!("{MARK_REGISTER}"), Slot::Register),
            (format!("{MARK_SEQ_NO}"), Slot::SeqNo),
        ];
        let mut found: Vec<(usize, usize, Slot)> = Vec::new();
        for (mark, slot) in &marks {
            for (at, _) in text.match_indices(mark.as_str()) {
                found.push((at, mark.len(), *slot));
            }
        }
        found.sort_by_key(|f| f.0);
        let (mut literals, mut slots, mut from) = (Vec::new(), Vec::new(), 0);
        for (at, len, slot) in found {
            literals.push(text[from..at].to_string());
            slots.push(slot);
            from = at + len;
        }
        literals.push(text[from..].to_string());
        Template { literals, slots }
    }

    /// Writes the frame with `fill`'s values into `out` (cleared first).
    pub fn render(&self, fill: &Fill<'_>, out: &mut String) {
        out.clear();
        for (k, literal) in self.literals.iter().enumerate() {
            out.push_str(literal);
            let Some(slot) = self.slots.get(k) else {
                continue;
            };
            let _ = match slot {
                Slot::Id => write!(out, "\"{}\"", fill.id),
                Slot::Timestamp => write!(out, "\"{}\"", fill.timestamp),
                Slot::Register => write!(out, "{}", fill.register_wh.floor()),
                Slot::SeqNo => write!(out, "{}", fill.seq_no),
            };
        }
    }
}

/// Whether `text` is, byte for byte, the empty CALLRESULT (`[3,"<id>",{}]`) to message `id`:
/// most answers under load, recognised without parsing. Anything else (a CALLERROR, a CALL from
/// the server, an answer to another id or with a payload or other spacing) the caller parses.
pub fn is_empty_result(text: &str, id: &str) -> bool {
    text.strip_prefix("[3,\"")
        .and_then(|rest| rest.strip_prefix(id))
        .is_some_and(|rest| rest == "\",{}]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_fills_every_marker_and_keeps_the_rest() {
        let ts = chargegrid_ocpp::timestamp::format(mark_time());
        let text = format!(
            r#"[2,"{MARK_ID}","MeterValues",{{"seqNo":{MARK_SEQ_NO},"meterValue":[{{"timestamp":"{ts}","sampledValue":[{{"value":"{MARK_REGISTER}"}},{{"value":"11000"}}]}}]}}]"#
        );
        let t = Template::new(&text);
        let mut out = String::new();
        t.render(
            &Fill {
                id: "42",
                timestamp: "2026-12-03T10:00:00.000Z",
                register_wh: 1030.04,
                seq_no: 7,
            },
            &mut out,
        );
        assert_eq!(
            out,
            r#"[2,"42","MeterValues",{"seqNo":7,"meterValue":[{"timestamp":"2026-12-03T10:00:00.000Z","sampledValue":[{"value":"1030"},{"value":"11000"}]}]}]"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            parsed[3]["meterValue"][0]["sampledValue"][0]["value"],
            "1030"
        );
    }

    #[test]
    fn empty_results_are_told_from_their_bytes() {
        assert!(is_empty_result(r#"[3,"17",{}]"#, "17"));
        assert!(!is_empty_result(r#"[4,"17","InternalError","",{}]"#, "17"));
        assert!(!is_empty_result(r#"[3,"171",{}]"#, "17"));
        assert!(!is_empty_result(r#"[3,"17",{"status":"Accepted"}]"#, "17"));
        assert!(!is_empty_result(r#"[2,"17","Reset",{}]"#, "17"));
        assert!(!is_empty_result(r#"[3, "17", {}]"#, "17"));
    }
}
