package synth_test

import (
	"fmt"
	"os"

	"github.com/bapeda-bekasi/sinergi/synth"
)

func ExampleNewRegency() {
	r := synth.NewRegency(1)
	fmt.Println(r.Code, r.Name)
	fmt.Println(len(r.Kecamatan), "kecamatan,", len(r.Villages), "villages,", len(r.Estates), "estates")
	v := r.Villages[0]
	fmt.Println(v.Code, v.Name, v.Kind, "in", v.KecCode, v.KecName)
	// Output:
	// 99.01 Kabupaten Sinergi Demo
	// 20 kecamatan, 184 villages, 4 estates
	// 99.01.01.2001 Cikarangendah desa in 99.01.01 Tegalkencana
}

func ExampleWriteHouseholdsCSV() {
	r := synth.NewRegency(1)
	if err := synth.WriteHouseholdsCSV(os.Stdout, r.Villages, synth.HouseholdOptions{N: 3, Seed: 1}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// id_keluarga,no_kk,nik,nama_kepala,alamat,kode_desa,longitude,latitude,jumlah_anggota,balita,balita_stunting,miskin_ekstrem,desil,penganggur
	// HH-0000001,9901042202019657,9901040411681042,Sarip Mulyadi,"Jl. Melati No. 112 RT 010/RW 003, Kelurahan Lenggahmekar",99.01.04.1001,107.054683,-6.208254,2,0,0,0,6,0
	// HH-0000002,9901050409196164,9901051506035492,Sobari,"Kp. Sempu RT 011/RW 005, Desa Rawa Abadi",99.01.05.2010,107.141186,-6.175315,5,0,0,0,0,0
	// HH-0000003,9901142303082671,9901142301829942,Acep,"Gg. Sukarela No. 18 RT 002/RW 003, Kelurahan Bantarmanah",99.01.14.1002,107.211979,-6.248142,3,0,0,0,4,1
}

func ExampleHouseholds() {
	r := synth.NewRegency(1)
	stunted, u5 := 0, 0
	err := synth.Households(r.Villages, synth.HouseholdOptions{N: 10000, Seed: 1}, func(h synth.Household) error {
		stunted += h.Stunted
		u5 += h.ChildrenU5
		return nil
	})
	fmt.Println(err, stunted > u5/10 && stunted < u5*3/10)
	// Output: <nil> true
}

func ExampleCompanies() {
	r := synth.NewRegency(1)
	cs := synth.Companies(r, 1)
	plans := synth.Plans(r, cs, 1)
	fmt.Println(len(cs), "companies; first:", cs[0].Name, "/", cs[0].Key)
	fmt.Println(len(plans) >= 15 && len(plans) <= 30)
	// Output:
	// 13 companies; first: PT Multi Lenggahmekar Santika / pt-multi-lenggahmekar-santika
	// true
}
