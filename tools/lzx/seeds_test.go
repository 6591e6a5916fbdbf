package lzx

// fuzzSeeds gives valid streams to start fuzzing from (filled in by the encoder's tests).
func fuzzSeeds(wim bool) [][]byte { return nil }
