import Foundation
import HDFDomain
import PropertyBased
import Testing

@Suite("domain values")
struct DomainTests {
    // MARK: VoucherCode

    static let alphabet = Array("23456789ABCDEFGHJKMNPQRSTUVWXYZ")

    /// The rule of `protocol/` written again here: Σ (position+1) × value ≡ 0 (mod 31) over the 12 characters.
    static func weightedSum(_ code: String) -> Int {
        code.enumerated().reduce(0) { $0 + ($1.offset + 1) * alphabet.firstIndex(of: $1.element)! } % 31
    }

    /// A code from 11 chosen characters and the check character the rule gives.
    static func code(from values: [Int]) -> String {
        let body = values.map { alphabet[$0] }
        let check = alphabet.indices.first { weightedSum(String(body + [alphabet[$0]])) == 0 }!
        return String(body + [alphabet[check]])
    }

    @Test("generated codes: 12 characters of the alphabet, the check rule holds, printed XXXX-XXXX-XXXX")
    func generatedCodes() throws {
        var seen = Set<String>()
        for _ in 0..<500 {
            let code = VoucherCode.generate()
            #expect(code.canonical.count == 12)
            #expect(code.canonical.allSatisfy { Self.alphabet.contains($0) })
            #expect(Self.weightedSum(code.canonical) == 0)
            #expect(code.grouped.count == 14)
            #expect(code.grouped.split(separator: "-").map(\.count) == [4, 4, 4])
            #expect(code.description == code.grouped)
            #expect(try VoucherCode(parsing: code.grouped) == code)
            seen.insert(code.canonical)
        }
        #expect(seen.count == 500, "no repeats among 500 random codes")
        #expect(!Self.alphabet.contains("0") && !Self.alphabet.contains("O") && !Self.alphabet.contains("1")
                && !Self.alphabet.contains("I") && !Self.alphabet.contains("L"))
        #expect(VoucherCode.alphabet == Self.alphabet)
    }

    @Test("codes are read with dashes, spaces, any case; every single substitution and adjacent swap is a mismatch")
    func parsingAndTypos() async {
        await propertyCheck(count: 60, input: Gen.int(in: 0...30).array(of: 11)) { values in
            let canonical = Self.code(from: values)
            let code = try VoucherCode(parsing: canonical)
            #expect(code.canonical == canonical)
            let grouped = code.grouped
            for typed in [grouped, grouped.lowercased(), canonical.lowercased(), grouped.replacingOccurrences(of: "-", with: " "),
                          " " + grouped.lowercased().replacingOccurrences(of: "-", with: " - ") + " ",
                          String(canonical.enumerated().map { $0.offset % 2 == 0 ? Character($0.element.lowercased()) : $0.element })] {
                #expect(try VoucherCode(parsing: typed) == code, "\(typed)")
            }
            let chars = Array(canonical)
            for position in 0..<12 {
                for replacement in Self.alphabet where replacement != chars[position] {
                    var typo = chars
                    typo[position] = replacement
                    #expect(throws: VoucherCode.Invalid.checkCharacterMismatch) { try VoucherCode(parsing: String(typo)) }
                }
            }
            for position in 0..<11 where chars[position] != chars[position + 1] {
                var swapped = chars
                swapped.swapAt(position, position + 1)
                #expect(throws: VoucherCode.Invalid.checkCharacterMismatch) { try VoucherCode(parsing: String(swapped)) }
            }
        }
    }

    @Test("malformed codes: wrong length, characters outside the alphabet")
    func malformedCodes() throws {
        let good = VoucherCode.generate().canonical
        #expect(throws: VoucherCode.Invalid.wrongLength(11)) { try VoucherCode(parsing: String(good.dropLast())) }
        #expect(throws: VoucherCode.Invalid.wrongLength(13)) { try VoucherCode(parsing: good + "2") }
        #expect(throws: VoucherCode.Invalid.wrongLength(0)) { try VoucherCode(parsing: "") }
        #expect(throws: VoucherCode.Invalid.wrongLength(0)) { try VoucherCode(parsing: " - - ") }
        for bad: Character in ["0", "O", "1", "I", "L", "_", "é"] {
            let text = String(good.dropFirst()) + String(bad)
            #expect(throws: VoucherCode.Invalid.badCharacter(Character(String(bad).uppercased()))) { try VoucherCode(parsing: text) }
        }
    }

    // MARK: PAN

    @Test("PAN: 16 digits and a Luhn check digit; every single-digit error is caught")
    func panLuhn() async throws {
        #expect(try PAN(validating: "9250123456789013").digits == "9250123456789013", "the contract's test PAN")
        #expect(PAN(appendingCheckDigitTo: "925012345678901").digits == "9250123456789013")
        await propertyCheck(count: 200, input: Gen.int(in: 0...9).array(of: 15)) { digits in
            let pan = PAN(appendingCheckDigitTo: digits.map(String.init).joined())
            let parsed = try PAN(validating: pan.digits)
            #expect(parsed == pan)
            let chars = Array(pan.digits)
            for position in 0..<16 {
                for digit in "0123456789" where digit != chars[position] {
                    var typo = chars
                    typo[position] = digit
                    #expect(throws: PAN.Invalid.luhnCheckFailed) { try PAN(validating: String(typo)) }
                }
            }
        }
        for bad in ["", "925012345678901", "92501234567890130", "9250 1234 5678 9013", "925012345678901a", "-250123456789013",
                    "９２５０１２３４５６７８９０１３"] {
            #expect(throws: PAN.Invalid.notSixteenDigits) { try PAN(validating: bad) }
        }
    }

    @Test("PAN masking: the first 4 and the last 4 digits only")
    func panMasking() throws {
        let pan = try PAN(validating: "9250123456789013")
        #expect(pan.masked == "9250********9013")
        #expect(pan.description == "9250********9013")
        #expect("\(pan)" == "9250********9013")
        #expect(PAN.mask("123456789") == "1234*6789")
        #expect(PAN.mask("12345678") == "********", "too short to show anything")
        #expect(PAN.mask("") == "")
        let encoded = String(decoding: try JSONEncoder().encode([pan]), as: UTF8.self)
        #expect(encoded == #"["9250123456789013"]"#, "JSON carries the full PAN (wire and ledger only)")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([PAN].self, from: Data(#"["9250123456789014"]"#.utf8)) }
    }

    // MARK: LocalDate

    @Test("month arithmetic keeps the day, or the month's last day", arguments: [
        ("2026-08-31", 6, "2027-02-28"), ("2027-08-31", 6, "2028-02-29"), ("2026-01-31", 1, "2026-02-28"),
        ("2028-01-31", 1, "2028-02-29"), ("2026-03-31", 1, "2026-04-30"), ("2026-12-15", 1, "2027-01-15"),
        ("2026-07-01", 6, "2027-01-01"), ("2026-05-26", 12, "2027-05-26"), ("2026-02-28", 12, "2027-02-28"),
        ("2028-02-29", 12, "2029-02-28"), ("2026-10-31", 0, "2026-10-31"), ("2026-03-31", -1, "2026-02-28"),
        ("2026-01-15", -1, "2025-12-15"), ("2099-12-31", 60, "2104-12-31"),
    ])
    func addingMonths(_ start: String, _ months: Int, _ expected: String) {
        #expect(day(start).adding(months: months) == day(expected))
    }

    @Test("day arithmetic across months, years and leap days")
    func addingDays() async {
        #expect(day("2026-12-31").adding(days: 1) == day("2027-01-01"))
        #expect(day("2028-02-28").adding(days: 1) == day("2028-02-29"))
        #expect(day("2027-02-28").adding(days: 1) == day("2027-03-01"))
        #expect(day("2026-03-01").adding(days: -1) == day("2026-02-28"))
        #expect(day("2026-01-01").adding(days: -1) == day("2025-12-31"))
        #expect(day("2026-01-01").adding(days: 365) == day("2027-01-01"))
        #expect(day("2028-01-01").adding(days: 366) == day("2029-01-01"))
        await propertyCheck(count: 200, input: Gen.int(in: 0...20_000), Gen.int(in: -800...800)) { offset, days in
            let start = day("1990-01-01").adding(days: offset)
            let moved = start.adding(days: days)
            #expect(moved.adding(days: -days) == start)
            #expect((days > 0) == (moved > start) && (days < 0) == (moved < start))
            #expect(LocalDate(iso: moved.iso) == moved)
        }
    }

    @Test("ISO dates: strict YYYY-MM-DD", arguments: ["2026-02-30", "2026-13-01", "2026-00-10", "2026-2-01", "26-02-01",
                                                       "2026/02/01", "2026-02-01T00:00", "", "1969-12-31", "2026-04-31"])
    func badISODates(_ text: String) {
        #expect(LocalDate(iso: text) == nil)
    }

    @Test("dates order and print as ISO; JSON uses the ISO text")
    func datesOrder() throws {
        #expect(day("2026-12-31") < day("2027-01-01"))
        #expect(day("2026-02-01") > day("2026-01-31"))
        #expect(day("2028-02-29").iso == "2028-02-29")
        #expect(LocalDate(year: 2026, month: 2, day: 29) == nil)
        let encoded = String(decoding: try JSONEncoder().encode([day("2026-05-26")]), as: UTF8.self)
        #expect(encoded == #"["2026-05-26"]"#)
    }

    @Test("the business day is the Europe/Paris calendar day")
    func parisBusinessDay() {
        // 2026-07-15T22:30:00Z is 00:30 on 16 July in Paris (UTC+2); 2026-01-31T23:30:00Z is 00:30 on 1 February (UTC+1).
        #expect(ParisCalendar.businessDay(of: Date(timeIntervalSince1970: 1_784_154_600)) == day("2026-07-16"))
        #expect(ParisCalendar.businessDay(of: Date(timeIntervalSince1970: 1_784_152_740)) == day("2026-07-15"))
        #expect(ParisCalendar.businessDay(of: Date(timeIntervalSince1970: 1_769_902_200)) == day("2026-02-01"))
        #expect(ParisCalendar.businessDay(of: Date(timeIntervalSince1970: 1_769_900_340)) == day("2026-01-31"))
        #expect(ParisCalendar.startMillis(of: day("2026-07-16")) == 1_784_152_800_000)
        #expect(ParisCalendar.isoTimestamp(millis: 1_784_154_600_000) == "2026-07-16T00:30:00+02:00")
    }

    // MARK: Money

    @Test("amounts: 1 cent to 1,000,000.00 EUR")
    func moneyBounds() {
        #expect(throws: Money.Invalid.notPositive(0)) { try Money.validate(amountCents: 0) }
        #expect(throws: Money.Invalid.notPositive(-1)) { try Money.validate(amountCents: -1) }
        #expect(throws: Money.Invalid.notPositive(Int64.min)) { try Money.validate(amountCents: Int64.min) }
        #expect(throws: Never.self) { try Money.validate(amountCents: 1) }
        #expect(throws: Never.self) { try Money.validate(amountCents: 100_000_000) }
        #expect(throws: Money.Invalid.tooLarge(100_000_001)) { try Money.validate(amountCents: 100_000_001) }
        #expect(throws: Money.Invalid.tooLarge(Int64.max)) { try Money.validate(amountCents: Int64.max) }
        #expect(Money.maximumAmountCents == 100_000_000)
    }

    @Test("operator amounts: whole positive cents only", arguments: [
        ("1", Int64?(1)), ("12500", 12_500), ("100000000", 100_000_000),
        ("0", nil), ("-5", nil), ("12.5", nil), ("12,50", nil), ("1e3", nil), ("", nil), (" 5", nil), ("5 ", nil),
        ("99999999999999999999", nil), ("100000001", nil), ("9223372036854775807", nil), ("0x10", nil), ("+5", nil),
        ("５", nil),
    ])
    func parseAmounts(_ text: String, _ expected: Int64?) {
        #expect((try? Money.parseAmountCents(text)) == expected, "'\(text)'")
    }

    @Test("why an operator amount is refused")
    func amountRefusalReasons() {
        #expect(throws: Money.Invalid.notPositive(-5)) { try Money.parseAmountCents("-5") }
        #expect(throws: Money.Invalid.notPositive(0)) { try Money.parseAmountCents("0") }
        #expect(throws: Money.Invalid.notAnInteger("12.5")) { try Money.parseAmountCents("12.5") }
        #expect(throws: Money.Invalid.notAnInteger("+5")) { try Money.parseAmountCents("+5") }
        #expect(throws: Money.Invalid.notAnInteger("99999999999999999999")) { try Money.parseAmountCents("99999999999999999999") }
        #expect(throws: Money.Invalid.tooLarge(100_000_001)) { try Money.parseAmountCents("100000001") }
    }

    @Test("French display of amounts")
    func display() {
        #expect(Money.display(cents: 1_250) == "12,50 €")
        #expect(Money.display(cents: 5) == "0,05 €")
        #expect(Money.display(cents: 0) == "0,00 €")
        #expect(Money.display(cents: -1_999) == "-19,99 €")
        #expect(Money.display(cents: 100_000_000) == "1000000,00 €")
    }

    @Test("wallet codes and labels; response code messages fit a terminal")
    func codesAndLabels() throws {
        #expect(try WalletCode(parsing: "manuels") == .manuels)
        #expect(throws: WalletCode.Unknown.self) { try WalletCode(parsing: "CANTINE") }
        #expect(WalletCode.allCases.map(\.rawValue).sorted() == ["HEBERGEMENT", "MANUELS", "RESTAURATION", "TRANSPORT"])
        #expect(WalletCode.manuels.label == "Manuels et équipement")
        #expect(WalletCode.manuels.defaultValidityMonths == 6)
        for code in ResponseCode.allCases { #expect(code.defaultMessage.count <= 32, "\(code)") }
        #expect(ResponseCode.allCases.map(\.rawValue).count == Set(ResponseCode.allCases.map(\.rawValue)).count)
    }

    @Test("Paris timestamps without a formatter: the same text as ISO8601DateFormatter over both DST changes, 1970 to 2100")
    func parisTimestamps() {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = ParisCalendar.timeZone
        formatter.formatOptions = [.withInternetDateTime]
        var random = SystemRandomNumberGenerator()
        // Around the 2026 changes (29 March 02:00 → 03:00, 25 October 03:00 → 02:00), then at random.
        var instants: [Int64] = [0, 1_774_746_000_000 - 1, 1_774_746_000_000, 1_792_890_000_000 - 1, 1_792_890_000_000, 1_792_893_600_000]
        for _ in 0..<2_000 { instants.append(Int64.random(in: 0...4_102_444_800_000, using: &random)) }
        for millis in instants {
            let expected = formatter.string(from: Date(timeIntervalSince1970: Double(millis / 1000)))
            #expect(ParisCalendar.isoTimestamp(millis: millis) == expected, "\(millis)")
        }
    }

    @Test("ISO dates read byte by byte: the valid ones round-trip, anything else is refused")
    func isoDates() {
        for text in ["2026-03-10", "2024-02-29", "2000-01-01", "2099-12-31"] {
            #expect(LocalDate(iso: text)?.iso == text)
        }
        for text in ["2026-3-10", "2026-02-30", "2026/03/10", "2026-03-1x", "+026-03-10", "2026-03-100", "", "2026-13-01"] {
            #expect(LocalDate(iso: text) == nil, "\(text)")
        }
        #expect(LocalDate(iso: String("x2026-03-10".dropFirst())) == LocalDate(year: 2026, month: 3, day: 10))
    }
}
