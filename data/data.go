// Package data embeds the plain-text word lists that the demo-data generator
// (package synth) draws fictional names, addresses and company names from.
//
// Every list was written for this project: the names are invented or very
// common Indonesian (Sundanese, Betawi, Javanese) words and do not come from
// any third-party dataset. Each list lives in its own .txt file in this
// directory, one entry a line; blank lines and lines starting with '#' are
// ignored. Every function returns a fresh slice that the caller may modify.
package data

import (
	"embed"
	"strings"
)

//go:embed *.txt
var files embed.FS

// lines returns the entries of the embedded file name.
func lines(name string) []string {
	b, err := files.ReadFile(name)
	if err != nil {
		panic("data: missing embedded list " + name) // cannot happen: the files are embedded at build time
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// MaleNames returns male given names such as "Asep" or "Dadang".
func MaleNames() []string { return lines("male_names.txt") }

// FemaleNames returns female given names such as "Euis" or "Neneng".
func FemaleNames() []string { return lines("female_names.txt") }

// GivenNames returns all given names: MaleNames followed by FemaleNames.
func GivenNames() []string { return append(MaleNames(), FemaleNames()...) }

// FamilyNames returns second names / family names such as "Suryana" or "Hidayat".
func FamilyNames() []string { return lines("family_names.txt") }

// VillagePrefixes returns first parts of village names ("Suka", "Karang", ...).
func VillagePrefixes() []string { return lines("village_prefixes.txt") }

// VillageSuffixes returns second parts of village names ("Mekar", "Sari", ...);
// "Suka" + "mekar" gives "Sukamekar".
func VillageSuffixes() []string { return lines("village_suffixes.txt") }

// KampungNames returns hamlet names used in addresses as "Kp. <name>".
func KampungNames() []string { return lines("kampung_names.txt") }

// StreetNames returns street and alley names used as "Jl. <name>" or "Gg. <name>".
func StreetNames() []string { return lines("street_names.txt") }

// StreetTypes returns the address prefixes "Kp." (kampung), "Jl." (jalan) and "Gg." (gang).
func StreetTypes() []string { return lines("street_types.txt") }

// CompanyForms returns company name templates such as "PT {}" or "PT {} Tbk",
// where "{}" stands for the company's proper name. Repeated entries weight
// the more common forms.
func CompanyForms() []string { return lines("company_forms.txt") }

// CompanyWords returns words that open a company name ("Sinar", "Mitra", ...).
func CompanyWords() []string { return lines("company_words.txt") }

// CompanyIndustries returns industry words used in company names ("Otomotif", "Logam", ...).
func CompanyIndustries() []string { return lines("company_industries.txt") }

// CompanyEndings returns words that close a company name ("Abadi", "Perkasa", ...).
func CompanyEndings() []string { return lines("company_endings.txt") }

// EstateNames returns invented industrial-estate names, used as
// "Kawasan Industri <name>".
func EstateNames() []string { return lines("estate_names.txt") }
