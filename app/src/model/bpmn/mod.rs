//! BPMN 2.0 XML, both ways, as Camunda Modeler and bpmn.io read and write it.
//!
//! - [`export`]: a workflow as one process with its diagram (DI) laid out from the steps'
//!   positions: steps are service tasks, commands sequence flows, events message catch
//!   events between them, failure routes flows from a boundary error event, `join: all` a
//!   converging parallel gateway, a compensation a boundary compensation event associated
//!   with a compensation task; a deciding step's routes leave through an exclusive or
//!   inclusive gateway, their conditions in FEEL ([`feel`]), the route without one the
//!   gateway's default; a timer is an intermediate timer catch event, a wait for a message
//!   a receive task (its timeout a boundary timer) or, when a route follows its timeout,
//!   an event-based gateway racing the message against a timer catch event; a
//!   sub-flow a call activity, a for-each a multi-instance task, a bounded loop of a step
//!   back to itself a standard loop.
//! - [`feel`]: conditions between CEL and FEEL (or JUEL), both ways.
//! - [`import`] (the `bpmn` feature: it needs an XML parser, which the browser does not):
//!   the same mapping read back from any modeler's file, pools, lanes and message flows
//!   included; every element it cannot map is refused by id and type.
//!
//! What neither BPMN nor a modeler has a place for (a step's service and action when they
//! are not its lane and name, its latency, retries, failure rate) rides in attributes of
//! the [`NAMESPACE`] namespace, which modelers keep as they are.

pub mod export;
pub mod feel;
#[cfg(feature = "bpmn")]
pub mod import;

/// The namespace of Hybridflow's own attributes (`hybridflow:service`, `…:action`,
/// `…:id`, `…:details`).
pub const NAMESPACE: &str = "https://hybridflow.dev/schema/bpmn";
/// BPMN 2.0's model namespace.
pub const BPMN_MODEL: &str = "http://www.omg.org/spec/BPMN/20100524/MODEL";
