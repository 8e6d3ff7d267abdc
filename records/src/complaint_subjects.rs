//! A complaint about a chat can arrive before the chat's row: the records
//! writer queues closed chats, and the customer may complain from the
//! closing screen at once. Such a complaint is filed with an empty group
//! and no agent (its subject is proven by the chat's receipt), and is
//! attributed here once the row is there.

use crate::sql::{Op, Value};
use crate::{Store, StoreError};

/// The group of a complaint whose chat row has not arrived yet.
pub const UNATTRIBUTED: &str = "";

impl Store {
    /// Sets the agent and group of a complaint filed before its chat's row
    /// arrived; `false` if it was attributed already (or does not exist).
    pub async fn attribute_complaint(
        &self,
        complaint: &str,
        agent: Option<&str>,
        group: &str,
    ) -> Result<bool, StoreError> {
        self.ready().await?;
        let sql = "UPDATE complaints SET agent_id = $2, group_id = $3 WHERE complaint_id = $1 AND group_id = $4";
        let params =
            vec![Value::text(complaint), Value::opt_text(agent), Value::text(group), Value::text(UNATTRIBUTED)];
        Ok(self.run(vec![Op::statement(sql, params)]).await?.iter().sum::<u64>() > 0)
    }
}
