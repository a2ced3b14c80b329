//! Flow-control windows changed while the ring runs (a monitor's FC
//! request, daemon-protocol.md §2.8 and §6). The new values apply from the
//! next token visit on.

use super::Ring;

impl Ring {
    /// Sets the ring Window, this daemon's PersonalWindow and its
    /// AcceleratedWindow; `None` leaves a value as it is. An accelerated
    /// window is ignored when the ring runs the original protocol: which
    /// protocol a ring runs is part of its configuration (and its hash).
    pub fn set_windows(
        &mut self,
        window: Option<i32>,
        personal: Option<i32>,
        accelerated: Option<i32>,
    ) {
        if let Some(w) = window {
            self.cfg.window = w;
        }
        if let Some(p) = personal {
            self.cfg.personal_window = p;
        }
        if let (Some(a), Some(current)) = (accelerated, self.cfg.accelerated_window.as_mut()) {
            *current = a;
        }
    }

    /// A reloaded configuration: its hash goes on every packet sent from
    /// now on (retransmissions of the old ring's packets too, or daemons
    /// that reloaded would refuse them), and its windows and protocol
    /// replace what ran (a monitor's windows included, as 5.0.1 resets
    /// them). The ring itself is about to be replaced by a new membership.
    pub fn reconfigure(
        &mut self,
        conf_hash: u32,
        seg_index: i16,
        window: i32,
        personal: i32,
        accelerated: Option<i32>,
    ) {
        self.cfg.conf_hash = conf_hash;
        self.cfg.seg_index = seg_index;
        self.cfg.window = window;
        self.cfg.personal_window = personal;
        self.cfg.accelerated_window = accelerated;
    }
}

impl Ring {
    /// A reloaded MaxMessageSize or RingKeyFile: messages queued from now
    /// on are held to it and cut to the new packet body, and the next ring
    /// reassembles up to it (the ring is about to be replaced).
    pub fn set_message_limits(&mut self, max_message_len: usize, packet_body: usize) {
        self.cfg.max_message_len = max_message_len;
        self.cfg.packet_body = packet_body;
        self.packer.set_limits(max_message_len, packet_body);
    }
}

#[cfg(test)]
mod tests {
    use super::super::RingConfig;
    use super::*;
    use crate::packet::MembId;

    /// The second of three daemons (not the leader, so it holds no token).
    fn config_with(accelerated_window: Option<i32>) -> RingConfig {
        RingConfig {
            me: 2,
            seg_index: 0,
            members: vec![1, 2, 3],
            memb_id: Some(MembId::new(1, 7)),
            conf_hash: 42,
            window: 160,
            personal_window: 20,
            accelerated_window,
            hurry_timeout_us: 500_000,
            token_timeout_us: 1_250_000,
            max_message_len: crate::packet::MAX_MESSAGE_LEN,
            packet_body: crate::packet::MAX_BODY_LEN,
        }
    }

    #[test]
    fn unchanged_values_stay_and_allowance_follows_the_new_windows() {
        let mut r = Ring::new(config_with(None), 0);
        assert_eq!(r.allowed(0), 20);
        r.set_windows(None, Some(8), Some(4));
        assert_eq!((r.cfg.window, r.cfg.personal_window), (160, 8));
        assert_eq!(
            r.cfg.accelerated_window, None,
            "the original ring stays original"
        );
        assert_eq!(r.allowed(0), 8);
        r.set_windows(Some(30), None, None);
        assert_eq!(r.allowed(25), 8);
        assert_eq!(r.allowed(35), 3, "Window + PersonalWindow − token total");
    }

    #[test]
    fn accelerated_window_changes_when_the_ring_is_accelerated() {
        let mut r = Ring::new(config_with(Some(15)), 0);
        r.set_windows(None, None, Some(5));
        assert_eq!(r.cfg.accelerated_window, Some(5));
        assert_eq!((r.cfg.window, r.cfg.personal_window), (160, 20));
    }
}
