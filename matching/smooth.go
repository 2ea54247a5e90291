package matching

import "math"

// EBPrior is the prior of Marshall's global empirical-Bayes rate smoother.
type EBPrior struct {
	// Mean is the pooled rate Σy/Σn.
	Mean float64
	// Variance is the estimated between-area variance of the true rates,
	// s² − Mean/n̄ (clamped at 0: all variation is then taken as noise).
	Variance float64
}

// EstimateEBPrior estimates the prior from counts y and denominators n by the
// method of moments (Marshall 1991, as in GeoDa):
//
//	m  = Σy / Σn
//	s² = Σ n_i (y_i/n_i − m)² / Σn
//	A  = max(0, s² − m / n̄),   n̄ = Σn / N.
//
// Pairs where either value is NaN, or n ≤ 0, are left out.
func EstimateEBPrior(y, n []float64) EBPrior {
	var sy, sn float64
	var count int
	for i := range y {
		if ok(y[i], n[i]) {
			sy += y[i]
			sn += n[i]
			count++
		}
	}
	if sn <= 0 {
		return EBPrior{Mean: math.NaN()}
	}
	m := sy / sn
	var ss float64
	for i := range y {
		if ok(y[i], n[i]) {
			d := y[i]/n[i] - m
			ss += n[i] * d * d
		}
	}
	a := ss/sn - m/(sn/float64(count))
	return EBPrior{Mean: m, Variance: math.Max(0, a)}
}

func ok(y, n float64) bool { return !math.IsNaN(y) && !math.IsNaN(n) && n > 0 }

// Smooth returns the posterior rate for count y over denominator n:
// m + C·(y/n − m) with shrinkage C = A / (A + m/n). A small denominator gives a
// small C, pulling the rate towards the pooled mean; n = 0 gives the mean itself.
func (p EBPrior) Smooth(y, n float64) float64 {
	if math.IsNaN(y) || math.IsNaN(n) || math.IsNaN(p.Mean) {
		return math.NaN()
	}
	if n <= 0 {
		return p.Mean
	}
	if p.Variance == 0 {
		return p.Mean
	}
	c := p.Variance / (p.Variance + p.Mean/n)
	return p.Mean + c*(y/n-p.Mean)
}

// SmoothEB returns the global empirical-Bayes smoothed rates of y/n, so a
// 40-household village with 3 cases does not outrank a 4,000-household one on
// noise. NaN inputs give NaN outputs.
func SmoothEB(y, n []float64) []float64 {
	p := EstimateEBPrior(y, n)
	out := make([]float64, len(y))
	for i := range y {
		out[i] = p.Smooth(y[i], n[i])
	}
	return out
}
