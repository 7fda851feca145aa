import Foundation
import HDFDomain
import Testing

@Suite("French formatting: amounts, typed amounts, dates")
struct FrenchFormatTests {
    let narrow = "\u{202F}"

    @Test("amounts in cents read the French way, thousands with a narrow no-break space")
    func amounts() {
        #expect(FrenchFormat.amount(cents: 1250) == "12,50 €")
        #expect(FrenchFormat.amount(cents: -1250) == "-12,50 €")
        #expect(FrenchFormat.amount(cents: 5) == "0,05 €")
        #expect(FrenchFormat.amount(cents: 0) == "0,00 €")
        #expect(FrenchFormat.amount(cents: 10_000) == "100,00 €")
        #expect(FrenchFormat.amount(cents: 123_450) == "1\(narrow)234,50 €")
        #expect(FrenchFormat.amount(cents: 100_000_000) == "1\(narrow)000\(narrow)000,00 €")
        #expect(FrenchFormat.amount(cents: Int64.min) .hasPrefix("-92\(narrow)233"))
        // Below a thousand euros it is exactly what the terminal's display shows.
        for cents: Int64 in [1, 99, 100, 1234, 99_999, -7] {
            #expect(FrenchFormat.amount(cents: cents) == Money.display(cents: cents))
        }
    }

    @Test("what a person types becomes cents, never through floating point",
          arguments: [("12,50", 1250), ("12.50", 1250), ("12", 1200), ("12,5", 1250), (" 12,50 € ", 1250),
                      ("12,50€", 1250), ("0,01", 1), (",5", 50), ("1 234,56", 123_456), ("1\u{202F}234,56", 123_456),
                      ("1\u{00A0}000\u{00A0}000", 100_000_000), ("0,29", 29), ("0.57", 57), ("1,10", 110), ("007", 700)])
    func parsesTypedAmounts(text: String, cents: Int64) throws {
        #expect(try FrenchFormat.parseAmountCents(text) == cents)
    }

    @Test("anything else is one clear French sentence",
          arguments: [("", FrenchAmountError.empty), ("   ", .empty), ("€", .empty), ("abc", .notAnAmount),
                      ("12,50,1", .notAnAmount), ("12.5,0", .notAnAmount), ("12,", .notAnAmount), ("1e3", .notAnAmount),
                      ("+12", .notAnAmount), ("-12", .negative), ("12,505", .tooManyDecimals), ("0", .zero),
                      ("0,00", .zero), ("1000000,01", .tooLarge), ("99999999999999999999", .tooLarge),
                      ("12 34", .notAnAmount), ("1234 567", .notAnAmount), ("١٢", .notAnAmount), ("12 $", .notAnAmount),
                      (String(repeating: "1", count: 40), .notAnAmount), ("12,5O", .notAnAmount), ("12..5", .notAnAmount)])
    func refusesTheRest(text: String, error: FrenchAmountError) {
        #expect(throws: error) { try FrenchFormat.parseAmountCents(text) }
        #expect(error.message.hasSuffix("."))
    }

    @Test("every amount shown reads back to the same cents")
    func roundTrip() throws {
        for cents: Int64 in [1, 9, 10, 99, 100, 101, 1_000, 99_999, 100_000, 123_456, 99_999_999, 100_000_000] {
            #expect(try FrenchFormat.parseAmountCents(FrenchFormat.amount(cents: cents)) == cents)
        }
    }

    @Test("dates as 26/05/2027; typed dates in French or ISO form")
    func dates() throws {
        let day = try #require(LocalDate(year: 2027, month: 5, day: 26))
        #expect(FrenchFormat.date(day) == "26/05/2027")
        #expect(FrenchFormat.date(try #require(LocalDate(year: 2008, month: 3, day: 4))) == "04/03/2008")
        #expect(FrenchFormat.parseDate("14/03/2008") == LocalDate(year: 2008, month: 3, day: 14))
        #expect(FrenchFormat.parseDate(" 4/3/2008 ") == LocalDate(year: 2008, month: 3, day: 4))
        #expect(FrenchFormat.parseDate("2008-03-14") == LocalDate(year: 2008, month: 3, day: 14))
        for bad in ["31/02/2008", "14-03-2008", "14/03/08", "", "aa/bb/cccc", "2008/03/14", "14/03/2008/1", "29/02/2027"] {
            #expect(FrenchFormat.parseDate(bad) == nil, "\(bad)")
        }
    }

    @Test("a transaction's instant on the Paris wall clock, summer and winter time")
    func dateTimes() {
        // 2027-05-26T12:05:00Z is 14:05 in Paris (UTC+2); 2026-12-01T23:30:00Z is already 2 December (UTC+1).
        #expect(FrenchFormat.dateTime(millis: 1_811_333_100_000) == "26/05/2027 à 14:05")
        #expect(FrenchFormat.dateTime(millis: 1_796_167_800_000) == "02/12/2026 à 00:30")
    }
}
