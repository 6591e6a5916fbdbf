package imggen

// SetPrefetchBudget sets the prefetcher's budget for a test and returns the function that
// restores it: a budget of 1 byte makes the writer stream every package itself.
func SetPrefetchBudget(n int64) (restore func()) {
	old := prefetchBudget
	prefetchBudget = n
	return func() { prefetchBudget = old }
}
