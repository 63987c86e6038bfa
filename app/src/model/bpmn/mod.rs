//! BPMN 2.0 XML, both ways, as Camunda Modeler and bpmn.io read and write it.
//!
//! - [`export`]: a workflow as one process with its diagram (DI) laid out from the steps'
//!   positions: steps are service tasks, commands sequence flows, events message catch
//!   events between them, failure routes flows from a boundary error event, `join: all` a
//!   converging parallel gateway, a compensation a boundary compensation event associated
//!   with a compensation task.
//! - [`import`] (the `bpmn` feature: it needs an XML parser, which the browser does not):
//!   the same mapping read back from any modeler's file, pools, lanes and message flows
//!   included; every element it cannot map is refused by id and type.
//!
//! What neither BPMN nor a modeler has a place for (a step's service and action when they
//! are not its lane and name, its latency, retries, failure rate) rides in attributes of
//! the [`NAMESPACE`] namespace, which modelers keep as they are.

pub mod export;
#[cfg(feature = "bpmn")]
pub mod feel;
#[cfg(feature = "bpmn")]
pub mod import;

/// The namespace of Hybridflow's own attributes (`hybridflow:service`, `…:action`,
/// `…:id`, `…:details`).
pub const NAMESPACE: &str = "https://hybridflow.dev/schema/bpmn";
/// BPMN 2.0's model namespace.
pub const BPMN_MODEL: &str = "http://www.omg.org/spec/BPMN/20100524/MODEL";
