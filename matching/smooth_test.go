package matching

import (
	"math"
	"testing"
)

// TestSmoothEBHandComputed: y = 1, 30, 5, 40 cases over n = 10, 100, 50, 400.
//
//	m  = 76/560 = 19/140
//	s² = Σ n (y/n − m)² / Σn = 23/3920
//	n̄  = 140, A = s² − m/n̄ = 23/3920 − 19/19600 = 6/1225
//	C_i = A/(A + m/n_i): 48/181, 480/613, 240/373, 1920/2053
//	EB_i = m + C_i (y_i/n_i − m): 457/3620, 3241/12260, 841/7460, 4201/41060
func TestSmoothEBHandComputed(t *testing.T) {
	y := []float64{1, 30, 5, 40}
	n := []float64{10, 100, 50, 400}
	p := EstimateEBPrior(y, n)
	if !near(p.Mean, 19.0/140) || math.Abs(p.Variance-6.0/1225) > 1e-15 {
		t.Fatalf("prior %+v, want mean 19/140, variance 6/1225", p)
	}
	want := []float64{457.0 / 3620, 3241.0 / 12260, 841.0 / 7460, 4201.0 / 41060}
	got := SmoothEB(y, n)
	for i := range want {
		if !near(got[i], want[i]) {
			t.Errorf("EB[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	// The two villages with a raw rate of 10 % are pulled towards m by different
	// amounts: the 10-household one more than the 50-household one.
	if !(got[0] > got[2] && got[2] > 0.1) {
		t.Errorf("shrinkage order wrong: %v", got)
	}
}

// TestSmoothEBNoiseOnly: when the spread is no more than sampling noise (A ≤ 0),
// every rate is the pooled mean: y = 0, 2, 10 over n = 10, 20, 100 gives m = 6/65,
// s² = 3/4225 < m/n̄ = 9/4225, so A = 0 and all EB = 6/65.
func TestSmoothEBNoiseOnly(t *testing.T) {
	got := SmoothEB([]float64{0, 2, 10}, []float64{10, 20, 100})
	for i, g := range got {
		if !near(g, 6.0/65) {
			t.Errorf("EB[%d] = %v, want 6/65", i, g)
		}
	}
}

// A 40-household village with 3 cases must not outrank a 4,000-household one
// with a slightly lower raw rate once smoothed, when the rest of the regency sits
// far lower.
func TestSmoothEBSmallVillageDoesNotWinOnNoise(t *testing.T) {
	y := []float64{3, 280, 40, 50, 45, 60}
	n := []float64{40, 4000, 2000, 2500, 2200, 3000}
	got := SmoothEB(y, n)
	if !(y[0]/n[0] > y[1]/n[1]) || !(got[1] > got[0]) {
		t.Fatalf("raw %v vs %v, smoothed %v vs %v", y[0]/n[0], y[1]/n[1], got[0], got[1])
	}
}

func TestSmoothEBMissing(t *testing.T) {
	got := SmoothEB([]float64{1, math.NaN(), 0}, []float64{10, 5, 0})
	if !math.IsNaN(got[1]) || !near(got[2], 0.1) {
		t.Fatalf("%v", got)
	}
}
