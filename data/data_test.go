package data

import (
	"strings"
	"testing"
)

func TestLists(t *testing.T) {
	tests := []struct {
		name string
		list []string
		min  int
	}{
		{"MaleNames", MaleNames(), 60},
		{"FemaleNames", FemaleNames(), 60},
		{"GivenNames", GivenNames(), 120},
		{"FamilyNames", FamilyNames(), 80},
		{"VillagePrefixes", VillagePrefixes(), 30},
		{"VillageSuffixes", VillageSuffixes(), 30},
		{"KampungNames", KampungNames(), 40},
		{"StreetNames", StreetNames(), 30},
		{"StreetTypes", StreetTypes(), 3},
		{"CompanyForms", CompanyForms(), 2},
		{"CompanyWords", CompanyWords(), 20},
		{"CompanyIndustries", CompanyIndustries(), 15},
		{"CompanyEndings", CompanyEndings(), 10},
		{"EstateNames", EstateNames(), 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.list) < tt.min {
				t.Fatalf("%d entries, want at least %d", len(tt.list), tt.min)
			}
			seen := map[string]bool{}
			for _, s := range tt.list {
				if s == "" || strings.TrimSpace(s) != s || strings.HasPrefix(s, "#") {
					t.Errorf("bad entry %q", s)
				}
				if seen[s] && tt.name != "CompanyForms" {
					t.Errorf("duplicate entry %q", s)
				}
				seen[s] = true
			}
		})
	}
	for _, f := range CompanyForms() {
		if strings.Count(f, "{}") != 1 {
			t.Errorf("company form %q must contain {} once", f)
		}
	}
	// Callers get their own copy.
	a := MaleNames()
	a[0] = "changed"
	if MaleNames()[0] == "changed" {
		t.Error("MaleNames returned a shared slice")
	}
}
