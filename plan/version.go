package plan

// Version is tieplan's version. Plan files, state and cache keys record it.
const Version = "0.1.0"
