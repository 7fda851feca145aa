import Foundation
import HDFDomain
import Testing

@Suite("reimbursement: IBAN, BIC and the SEPA character set")
struct BankDetailsTests {
    @Test("valid IBANs of several SEPA countries, in paper or electronic form")
    func validIBANs() throws {
        // Published example IBANs (ECBS / national registries).
        for text in ["FR14 2004 1010 0505 0001 3M02 606", "DE89370400440532013000", "GB82WEST12345698765432",
                     "BE68539007547034", "NL91ABNA0417164300", "it60x0542811101000000123456", "CH9300762011623852957"] {
            let iban = try IBAN(text)
            #expect(IBAN.mod97(iban.electronic) == 1)
            #expect(!iban.electronic.contains(" "))
        }
    }

    @Test("wrong check digits, wrong length, non-SEPA country and bad characters are refused, each with its reason")
    func invalidIBANs() {
        #expect(throws: IBAN.Invalid.checksum) { try IBAN("FR15 2004 1010 0505 0001 3M02 606") }
        #expect(throws: IBAN.Invalid.length(country: "FR", expected: 27, got: 26)) { try IBAN("FR14 2004 1010 0505 0001 3M02 60") }
        #expect(throws: IBAN.Invalid.notSEPA("US")) { try IBAN("US64SVBKUS6S3300958879") }
        #expect(throws: IBAN.Invalid.characters) { try IBAN("FR14-2004-1010") }
        #expect(throws: IBAN.Invalid.characters) { try IBAN("") }
        // One digit changed anywhere is caught by mod 97.
        let good = Array("FR1420041010050500013M02606")
        for index in 4..<good.count where good[index].isNumber {
            var bad = good
            bad[index] = Character(String((good[index].wholeNumberValue! + 1) % 10))
            #expect(throws: IBAN.Invalid.checksum) { try IBAN(String(bad)) }
        }
    }

    @Test("IBAN.make computes check digits that IBAN accepts; masking keeps 4 + 4")
    func makeAndMask() throws {
        let iban = try IBAN.make(country: "FR", bban: "20041010050500013M02606")
        #expect(iban.electronic == "FR1420041010050500013M02606")
        #expect(iban.masked == "FR14…2606")
        #expect(iban.paperForm == "FR14 2004 1010 0505 0001 3M02 606")
    }

    @Test("BIC: 8 or 11, letters where the standard says letters")
    func bics() throws {
        for text in ["BNPAFRPP", "BNPAFRPPXXX", "sogefrpp", "CMCIFR2A", "AGRIFRPP867"] { _ = try BIC(text) }
        for text in ["BNPAFRP", "BNPAFRPPXX", "BNP1FRPP", "BNPAF1PP", "BNPAFRPP-XX", "", "BNPAFRPPXXXX"] {
            #expect(throws: BIC.Invalid.self) { try BIC(text) }
        }
    }

    @Test("names are transliterated into the SEPA set")
    func transliteration() {
        #expect(SEPAText.transliterate("Librairie Élan & Cie", maximumLength: 70) == "Librairie Elan et Cie")
        #expect(SEPAText.transliterate("Résidence Les Hortillonnages", maximumLength: 70) == "Residence Les Hortillonnages")
        #expect(SEPAText.transliterate("Le Bistrot d’Arras — Œuvre", maximumLength: 70) == "Le Bistrot d'Arras - OEuvre")
        #expect(SEPAText.transliterate("Ça coûte 5 € ! <ok>", maximumLength: 70) == "Ca coute 5 ok")
        #expect(SEPAText.transliterate(String(repeating: "é", count: 100), maximumLength: 70).count == 70)
        for text in ["Zoë & Anaïs", "Straße", "Łódź café", "北京"] {
            #expect(SEPAText.transliterate(text, maximumLength: 70).allSatisfy(SEPAText.isAllowed))
        }
    }
}
