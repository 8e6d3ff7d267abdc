//! The router core's rules, one module per numbered point of the core's
//! design (skill groups, queues and assignment, reply timers, transfers,
//! conduct flags (agent closes on their own), agent loss, customer side, complaint tendency, config),
//! all on simulated time.

mod sim;

mod assignment;
mod closes;
mod complaint;
mod conduct;
mod config;
mod customer;
mod estimate_sim;
mod hours;
mod presence;
mod reply_timers;
mod roster;
mod save;
mod transfers;
mod waiting;
