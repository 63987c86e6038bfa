//! A history record as the store writes it and everyone else receives it: its JSON is made
//! once, when the record is made, and the same text is written to the database, sent to
//! watchers, put on the bus and read back by catch-ups.

use std::sync::Arc;

use app::model::{RunEvent, RunRecord};

use super::StoreError;

/// JSON text, shared: cloning it copies a pointer, not the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonText(Arc<str>);

impl JsonText {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The same bytes, without a copy (for a socket or the bus).
    pub fn to_bytes(&self) -> bytes::Bytes {
        bytes::Bytes::from_owner(ArcText(self.0.clone()))
    }
}

/// An `Arc<str>` as the owner of a `Bytes`.
struct ArcText(Arc<str>);

impl AsRef<[u8]> for ArcText {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl From<String> for JsonText {
    fn from(text: String) -> Self {
        JsonText(text.into())
    }
}

impl From<&str> for JsonText {
    fn from(text: &str) -> Self {
        JsonText(text.into())
    }
}

/// A history record with its JSON, encoded once: the store writes that text, and watchers
/// get the same bytes.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub record: RunRecord,
    pub json: JsonText,
}

impl Recorded {
    pub fn new(record: RunRecord) -> Self {
        Recorded {
            json: super::encode(&record).into(),
            record,
        }
    }
}

/// A durable record as readers receive it: its JSON text, and what a reader needs to know
/// of it without decoding it.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRecord {
    pub seq: u64,
    /// The run's last record (`RunCompleted`).
    pub ends_run: bool,
    pub json: JsonText,
}

impl From<&Recorded> for StoredRecord {
    fn from(recorded: &Recorded) -> Self {
        StoredRecord {
            seq: recorded.record.seq,
            ends_run: matches!(recorded.record.event, RunEvent::RunCompleted { .. }),
            json: recorded.json.clone(),
        }
    }
}

impl StoredRecord {
    /// A record of run `run_id` as a store keeps it (its JSON text): only its `seq` and
    /// type are read from it, the text goes to readers as it is.
    pub fn from_json(run_id: &str, body: impl Into<JsonText>) -> Result<Self, StoreError> {
        /// What a reader needs to know of a stored record besides its text.
        #[derive(serde::Deserialize)]
        struct Head<'a> {
            seq: u64,
            #[serde(rename = "type", borrow)]
            kind: &'a str,
        }
        let json = body.into();
        let head: Head = serde_json::from_str(json.as_str())
            .map_err(|e| StoreError::decode(format!("run {run_id} history record"), e))?;
        Ok(StoredRecord {
            seq: head.seq,
            ends_run: head.kind == "RunCompleted",
            json,
        })
    }
}
