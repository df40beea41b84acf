package sandbox

import (
	"fmt"
	"math/rand/v2"
)

// country is where a callee lives: it fixes the number format, the caller ID
// a business would use there and the timezone of the calling windows.
type country struct {
	code      string // ISO 3166-1 alpha-2, kept for metadata
	timezones []string
	// utcOffset is a representative offset in hours, enough to keep calls
	// in office hours without depending on the host's tz database.
	utcOffset int
	// mobile returns a callee number in E.164. Where the regulator publishes
	// a range reserved for fiction (US 555-01xx, UK 07700 900xxx, FR 06 39 98,
	// AU 0491 570), the sandbox uses it, so no real subscriber's number ever
	// appears in a demo or a log.
	mobile func(r *rand.Rand) string
	// trunks are the business caller IDs (from_phone_number) for the country.
	trunks     []string
	firstNames []string
	lastNames  []string
}

func digits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

var (
	countryUS = &country{
		code:      "US",
		utcOffset: -6,
		timezones: []string{"America/New_York", "America/Chicago", "America/Los_Angeles"},
		mobile: func(r *rand.Rand) string {
			areas := []string{"212", "415", "312", "617", "305", "512", "206"}
			return fmt.Sprintf("+1%s55501%02d", areas[r.IntN(len(areas))], r.IntN(100))
		},
		trunks:     []string{"+12125550100", "+14155550142"},
		firstNames: []string{"Emily", "Jacob", "Olivia", "Marcus", "Hannah", "Tyler", "Grace", "Daniel", "Sofia", "Ethan"},
		lastNames:  []string{"Johnson", "Carter", "Nguyen", "Brooks", "Ramirez", "Patel", "Walsh", "Coleman", "Reyes", "Hughes"},
	}
	countryCA = &country{
		code:      "CA",
		utcOffset: -5,
		timezones: []string{"America/Toronto", "America/Vancouver"},
		mobile: func(r *rand.Rand) string {
			areas := []string{"416", "604", "514", "403"}
			return fmt.Sprintf("+1%s55501%02d", areas[r.IntN(len(areas))], r.IntN(100))
		},
		trunks:     []string{"+14165550111"},
		firstNames: []string{"Liam", "Chloé", "Noah", "Maya", "Owen", "Zoe"},
		lastNames:  []string{"Tremblay", "MacDonald", "Gagnon", "Singh", "Roy", "Wilson"},
	}
	countryGB = &country{
		code:      "GB",
		utcOffset: 0,
		timezones: []string{"Europe/London"},
		mobile: func(r *rand.Rand) string {
			return "+447700900" + digits(r, 3)
		},
		trunks:     []string{"+442079460123", "+441134960000"},
		firstNames: []string{"Oliver", "Amelia", "Harry", "Isla", "George", "Poppy", "Arthur", "Freya"},
		lastNames:  []string{"Smith", "Taylor", "Davies", "Evans", "Thomas", "Roberts", "Wright", "Hall"},
	}
	countryFR = &country{
		code:      "FR",
		utcOffset: 1,
		timezones: []string{"Europe/Paris"},
		mobile: func(r *rand.Rand) string {
			return "+3363998" + digits(r, 4)
		},
		trunks:     []string{"+33199001234", "+33199004321"},
		firstNames: []string{"Camille", "Lucas", "Léa", "Hugo", "Manon", "Louis", "Chloé", "Jules", "Inès", "Gabriel"},
		lastNames:  []string{"Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Girard", "Fontaine", "Rousseau", "Mercier", "Blanc"},
	}
	countryDE = &country{
		code:      "DE",
		utcOffset: 1,
		timezones: []string{"Europe/Berlin"},
		mobile: func(r *rand.Rand) string {
			prefixes := []string{"151", "160", "170", "176"}
			return "+49" + prefixes[r.IntN(len(prefixes))] + digits(r, 8)
		},
		trunks:     []string{"+493023125000"},
		firstNames: []string{"Lukas", "Mia", "Felix", "Hanna", "Jonas", "Lena"},
		lastNames:  []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner"},
	}
	countryES = &country{
		code:      "ES",
		utcOffset: 1,
		timezones: []string{"Europe/Madrid"},
		mobile: func(r *rand.Rand) string {
			return "+346" + digits(r, 8)
		},
		trunks:     []string{"+34910000123"},
		firstNames: []string{"Lucía", "Hugo", "Martina", "Pablo", "Sara", "Álvaro"},
		lastNames:  []string{"García", "Fernández", "López", "Martínez", "Sánchez", "Romero"},
	}
	countryAU = &country{
		code:      "AU",
		utcOffset: 10,
		timezones: []string{"Australia/Sydney", "Australia/Perth"},
		mobile: func(r *rand.Rand) string {
			return fmt.Sprintf("+61491570%03d", 6+r.IntN(994))
		},
		trunks:     []string{"+61255501234"},
		firstNames: []string{"Charlotte", "Jack", "Ruby", "Lachlan", "Matilda", "Cooper"},
		lastNames:  []string{"Kelly", "Mitchell", "O'Brien", "Harris", "Clarke", "Murphy"},
	}
	countryBR = &country{
		code:      "BR",
		utcOffset: -3,
		timezones: []string{"America/Sao_Paulo"},
		mobile: func(r *rand.Rand) string {
			return "+55119" + digits(r, 8)
		},
		trunks:     []string{"+551130000123"},
		firstNames: []string{"Ana", "João", "Beatriz", "Pedro", "Larissa", "Rafael"},
		lastNames:  []string{"Silva", "Santos", "Oliveira", "Souza", "Costa", "Almeida"},
	}
)

// business is who places the calls of an order: it fixes the scenario's
// wording, the assistant and the agent's name.
type business struct {
	name      string
	agent     string // the voice agent's first name
	subject   string // what the call is about, as a noun phrase
	assistant string // assistant name shown on the order
	scenario  scenario
	sound     *string // background_sound of the assistant
	id        string  // assistant id, generated
}

var officeSound = "audio/office.ogg"

// newBusinesses returns the catalogue; assistant ids are filled in by the
// generator so that they depend on the seed like every other id.
func newBusinesses() []*business {
	return []*business{
		{name: "Northside Dental", agent: "Ava", subject: "six-month check-up", assistant: "Dental recall – booking", scenario: scenarioAppointment, sound: &officeSound},
		{name: "Harbor Physiotherapy", agent: "Ava", subject: "follow-up session", assistant: "Physio follow-ups", scenario: scenarioAppointment},
		{name: "Clinique Saint-Roch", agent: "Léa", subject: "annual eye exam", assistant: "Ophthalmology reminders", scenario: scenarioAppointment, sound: &officeSound},
		{name: "Parcelio", agent: "Max", subject: "parcel delivery", assistant: "Delivery confirmation", scenario: scenarioDelivery},
		{name: "Maison Verte", agent: "Max", subject: "sofa delivery", assistant: "Furniture delivery slots", scenario: scenarioDelivery, sound: &officeSound},
		{name: "QuickCart Groceries", agent: "Sam", subject: "grocery delivery", assistant: "Grocery delivery check", scenario: scenarioDelivery},
		{name: "Bright Telecom", agent: "Nora", subject: "fibre installation visit", assistant: "Post-install NPS survey", scenario: scenarioSurvey},
		{name: "Hotel Lumière", agent: "Nora", subject: "stay with us", assistant: "Guest satisfaction survey", scenario: scenarioSurvey, sound: &officeSound},
		{name: "Velo City Bikes", agent: "Theo", subject: "bike service", assistant: "Workshop feedback", scenario: scenarioSurvey},
	}
}
