//! Switchboard server library: the router core and (in sibling modules) the
//! gateway, driver and metrics that put it on the network.

pub mod router;
