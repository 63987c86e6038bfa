//! The bpmn importer on diagrams a byte-level fuzzer would rarely write: the bytes are read
//! as a small program that draws two pools of tasks, message throw and catch events and
//! parallel gateways, joined by sequence flows and message flows — fans into and out of
//! one element, the same message flow drawn many times. Whatever it draws, the import
//! never panics, stays within its limits (libFuzzer's memory and time limits catch one
//! that builds more than it charges for), and what it accepts is a valid workflow that
//! survives its own export and import again.
#![no_main]

use std::fmt::Write as _;

use app::model::formats::{export, import, ExportFormat, ImportFormat};
use app::model::validate::{validate, MAX_DOCUMENT_BYTES, MAX_EDGES, MAX_NODES};
use libfuzzer_sys::fuzz_target;

/// Elements of one kind, in one of the two pools.
#[derive(Clone, Copy)]
enum Kind {
    Task,
    Throw,
    Catch,
    Gateway,
}

struct Diagram {
    /// (pool, kind) of each element; its id is `e<index>`.
    elements: Vec<(usize, Kind)>,
    sequence: Vec<(usize, usize)>,
    messages: Vec<(usize, usize)>,
}

impl Diagram {
    fn add(&mut self, pool: usize, kind: Kind) -> usize {
        self.elements.push((pool, kind));
        self.elements.len() - 1
    }

    fn xml(&self) -> String {
        let mut out = String::from(
            "<definitions xmlns=\"http://www.omg.org/spec/BPMN/20100524/MODEL\"><collaboration id=\"c\"><participant id=\"pa\" processRef=\"p0\"/><participant id=\"pb\" processRef=\"p1\"/>",
        );
        for (i, (from, to)) in self.messages.iter().enumerate() {
            let _ = write!(out, "<messageFlow id=\"m{i}\" sourceRef=\"e{from}\" targetRef=\"e{to}\"/>");
        }
        out.push_str("</collaboration>");
        for pool in 0..2 {
            let _ = write!(out, "<process id=\"p{pool}\">");
            for (i, (p, kind)) in self.elements.iter().enumerate() {
                if *p != pool {
                    continue;
                }
                let _ = match kind {
                    Kind::Task => write!(out, "<task id=\"e{i}\" name=\"T{i}\"/>"),
                    Kind::Throw => write!(out, "<intermediateThrowEvent id=\"e{i}\"><messageEventDefinition/></intermediateThrowEvent>"),
                    Kind::Catch => write!(out, "<intermediateCatchEvent id=\"e{i}\" name=\"M{i}\"><messageEventDefinition/></intermediateCatchEvent>"),
                    Kind::Gateway => write!(out, "<parallelGateway id=\"e{i}\"/>"),
                };
            }
            for (i, (from, to)) in self.sequence.iter().enumerate() {
                if self.elements[*from].0 == pool {
                    let _ = write!(out, "<sequenceFlow id=\"f{i}\" sourceRef=\"e{from}\" targetRef=\"e{to}\"/>");
                }
            }
            out.push_str("</process>");
        }
        out.push_str("</definitions>");
        out
    }
}

fuzz_target!(|data: &[u8]| {
    let mut d = Diagram {
        elements: vec![(0, Kind::Task), (1, Kind::Task)],
        sequence: Vec::new(),
        messages: Vec::new(),
    };
    let mut bytes = data.iter().copied();
    let mut next = move || bytes.next();
    while let Some(op) = next() {
        let (Some(a), Some(b)) = (next(), next()) else {
            break;
        };
        let n = d.elements.len();
        let (pool, i, j) = (usize::from(a % 2), usize::from(a) % n, usize::from(b) % n);
        match op % 9 {
            0 => {
                d.add(pool, Kind::Task);
            }
            1 => {
                d.add(pool, Kind::Throw);
            }
            2 => {
                d.add(pool, Kind::Catch);
            }
            3 => {
                d.add(pool, Kind::Gateway);
            }
            4 if d.elements[i].0 == d.elements[j].0 => d.sequence.push((i, j)),
            5 if d.elements[i].0 != d.elements[j].0 => d.messages.push((i, j)),
            // A fan of `b` new tasks into element `i` (in its pool)...
            6 => {
                for _ in 0..b {
                    let t = d.add(d.elements[i].0, Kind::Task);
                    d.sequence.push((t, i));
                }
            }
            // ... or out of it.
            7 => {
                for _ in 0..b {
                    let t = d.add(d.elements[i].0, Kind::Task);
                    d.sequence.push((i, t));
                }
            }
            // The last message flow drawn `b` times more.
            8 => {
                if let Some(&last) = d.messages.last() {
                    d.messages.extend(std::iter::repeat_n(last, usize::from(b)));
                }
            }
            _ => {}
        }
        if d.elements.len() > 20_000 {
            break;
        }
    }
    let xml = d.xml();
    // What the server takes: a document of at most 1 MiB.
    if xml.len() > MAX_DOCUMENT_BYTES {
        return;
    }
    if let Ok(w) = import(&xml, Some(ImportFormat::Bpmn)) {
        assert!(validate(&w).is_empty());
        assert!(w.nodes.len() <= MAX_NODES && w.edges.len() <= MAX_EDGES);
        let exported = export(&w, ExportFormat::Bpmn);
        // BPMN is verbose: a large diagram's export can outgrow the 1 MiB a document may
        // have (README: about 1,000 steps is the most a BPMN round trip carries).
        if exported.len() <= MAX_DOCUMENT_BYTES {
            let again =
                import(&exported, Some(ImportFormat::Bpmn)).expect("our own export imports");
            assert_eq!(again.nodes.len(), w.nodes.len());
        }
    }
});
