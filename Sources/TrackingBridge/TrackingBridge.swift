// TrackingBridge: embedded store.
