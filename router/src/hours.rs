//! Service hours: which groups are open, as the driver reads them on the
//! business calendar and tells the router (`Input::SetGroupHours`). A
//! closed group takes no new customer unless it overflows to an open group;
//! its waiting customers stay and may still be assigned (agents work on
//! what they have); overflow goes only to open groups (`dispatch.rs`).

use super::error::RuleError;
use super::ids::GroupId;
use super::input::GroupHours;
use super::state::GroupIdx;
use super::Router;

impl Router {
    /// Takes the groups' new hours. Refused whole (changing nothing) if a
    /// group is unknown.
    pub(super) fn set_group_hours(&mut self, groups: Vec<(GroupId, GroupHours)>) -> Result<(), RuleError> {
        let indexes = groups
            .iter()
            .map(|(id, _)| self.group_index.get(id).copied().ok_or_else(|| RuleError::UnknownGroup(id.clone())))
            .collect::<Result<Vec<GroupIdx>, _>>()?;
        for (g, (_, hours)) in indexes.into_iter().zip(groups) {
            // Kept in the config too, so that a saved router keeps the text customers are shown.
            self.config.groups[g as usize].service_hours = hours.service_hours.as_deref().map(str::to_owned);
            self.groups[g as usize].hours = hours;
            // Overflow into this group opens or shuts: its own and its overflow sources' estimates
            // change, and sessions listed in its `overflow_in` may now be picked.
            self.estimates_changed(g);
            self.dirty_groups.insert(g);
        }
        Ok(())
    }

    /// Whether a new customer may join group `g`: it is open, or it
    /// overflows to a group that is.
    pub(super) fn takes_new_customers(&self, g: GroupIdx) -> bool {
        let group = &self.groups[g as usize];
        group.hours.open || group.overflow_to.iter().any(|&h| self.groups[h as usize].hours.open)
    }
}
