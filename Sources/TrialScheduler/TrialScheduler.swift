// TrialScheduler.
