import Foundation
import GatewayClient
import HDFDomain
import Ledger
import Testing
import WireProtocol

extension BeneficiarySide {
    @Suite("Beneficiary side: history, partner search, refusals")
    struct HistoryAndRefusalTests {
        /// Every kind of line a card's history holds, then: newest first, partner names and labels, and per
        /// wallet the signed amounts add up to the balance `wallets` shows.
        @Test("transactions: newest first, with partners and labels, every kind; per wallet the lines add up to the balance")
        func transactionsAddUp() async throws {
            let gateway = try await LiveGateway.start("history")
            // A card holding MANUELS and RESTAURATION: the Bistrot d'Arras (P005) takes both.
            let card = try #require(gateway.fundedCards.first { $0.walletCodes == ["MANUELS", "RESTAURATION"] })
            let beneficiary = gateway.beneficiary
            var software = card.softwareCard
            let t002 = try await gateway.terminal("T002")
            let t001 = try await gateway.terminal("T001")
            let t006 = try await gateway.terminal("T006")

            // Card purchases: one kept, one cancelled by the partner, one reversed by the terminal.
            #expect(try await t002.purchase(&software, amount: 700).code == "00")
            let cancelled = try await t002.purchase(&software, amount: 450)
            #expect(try await t002.cancel(try #require(cancelled.string("txn"))).code == "00")
            let reversedStan = "REV-1"
            let reversed = try await t002.send("purchase", [("stan", .string(reversedStan)), ("amount", .int(320)),
                                                            ("currency", .string("EUR")), ("card", software.cardObject(amountCents: 320))])
            #expect(reversed.code == "00")
            #expect(try await t002.reverse(reversedStan).code == "00")

            // Vouchers: issued (kept), redeemed, cancelled, expired.
            let issued = try #require(try await beneficiary.prepay(card.pan, partner: "P001", amount: 1_000).1?.string("code"))
            let redeemed = try #require(try await beneficiary.prepay(card.pan, partner: "P002", amount: 1_100).1?.string("code"))
            #expect(try await t002.voucherRedeem(redeemed).code == "00")
            let cancelledVoucher = try #require(try await beneficiary.prepay(card.pan, partner: "P001", amount: 900).1?.string("code"))
            #expect(try await beneficiary.run("cancel-prepayment", ["--card", card.pan, "--voucher", cancelledVoucher]).succeeded)
            let expiring = try #require(try await beneficiary.prepay(card.pan, partner: "P005", wallet: "RESTAURATION", amount: 500).1?
                .string("code"))
            // Time passes: the RESTAURATION wallet (and so its voucher) reaches its expiry; the next look-up
            // releases the hold back to that (now expired) wallet.
            let yesterday = ParisCalendar.today().adding(days: -1)
            try Ledger.open(directory: gateway.directory, actor: "test").write { tx in
                try tx.setWalletExpiry(pan: PAN(validating: card.pan), code: .restauration, expiresOn: yesterday)
                _ = try tx.ledger.connection.run("UPDATE vouchers SET expires_on = ? WHERE code = ?", yesterday.iso,
                                                 VoucherCode(parsing: expiring).canonical)
            }
            let restaurationBeforeExpiry = try gateway.available(card.pan, .restauration)
            // The beneficiary's cancellation is refused (expired), and the money is back where it came from.
            let late = try await beneficiary.run("cancel-prepayment", ["--card", card.pan, "--voucher", expiring])
            expectRefused(late, code: "voucher_expired", messageContains: "expired")
            #expect(try gateway.available(card.pan, .restauration) == restaurationBeforeExpiry + 500,
                    "the hold is voided: the money is back in the expired wallet it came from")
            let expired = try await t006.voucherCheck(expiring)
            #expect(expired.code == "54", "\(expired)")
            #expect(expired["voucher"]?.string("status") == "expired")
            #expect(try gateway.available(card.pan, .restauration) == restaurationBeforeExpiry + 500, "released once")

            // Online payments: one kept, one cancelled by its partner.
            let online = try await beneficiary.run("pay-online", ["--card", card.pan, "--partner", "P001", "--wallet", "MANUELS", "--amount", "300"])
            #expect(online.succeeded, "\(online)")
            let refunded = try await beneficiary.run("pay-online", ["--card", card.pan, "--partner", "P005", "--wallet", "MANUELS", "--amount", "200"])
            let refundedTxn = try #require((refunded.json?["payment"] as? [String: Any])?.string("txn"))
            #expect(try await t006.cancel(refundedTxn).code == "00")
            _ = issued

            let lines = try await beneficiary.transactions(card.pan)
            // Newest first.
            let formatter = ISO8601DateFormatter()
            let dates = lines.compactMap { ($0["date"] as? String).flatMap(formatter.date(from:)) }
            #expect(dates.count == lines.count, "every line has an ISO 8601 date")
            #expect(zip(dates, dates.dropFirst()).allSatisfy { $0 >= $1 }, "newest first")
            #expect(lines.allSatisfy { ($0["label"] as? String)?.isEmpty == false && $0["status"] is String && $0["kind"] is String })

            func of(kind: String, status: String? = nil) -> [[String: Any]] {
                lines.filter { $0.string("kind") == kind && (status == nil || $0.string("status") == status) }
            }
            #expect(of(kind: "load").count == card.wallets.count, "the demo's loads")
            #expect(of(kind: "load").allSatisfy { $0.int("amount")! > 0 && $0.string("label")!.hasPrefix("Chargement") })
            let purchases = of(kind: "purchase")
            #expect(purchases.count == 3)
            #expect(purchases.allSatisfy { $0.string("partner") == "Équipement Pro Lille" && $0.int("amount")! < 0 })
            #expect(Set(purchases.compactMap { $0.string("status") }) == ["approved", "cancelled", "reversed"])
            #expect(of(kind: "reversal").count == 1)
            for status in ["issued", "redeemed", "cancelled", "expired"] {
                let voucher = of(kind: "voucher", status: status)
                #expect(voucher.count == 1, "a voucher line \(status)")
                #expect(voucher.first?.string("label")?.hasPrefix("Bon de prépaiement") == true)
            }
            #expect(of(kind: "voucher", status: "expired").first?.string("partner") == "Le Bistrot d'Arras")
            #expect(of(kind: "voucher.release").count == 2, "the cancelled and the expired vouchers' money came back")
            let onlines = of(kind: "online")
            #expect(onlines.count == 2)
            #expect(onlines.allSatisfy { $0.string("label") == "Extranet Bénéficiaire" })
            #expect(Set(onlines.compactMap { $0.string("partner") }) == ["Librairie du Beffroi", "Le Bistrot d'Arras"])
            #expect(of(kind: "refund").count == 2, "the partner's cancellations of a purchase and of an online payment")

            // Per wallet, the signed amounts add up to the balance `wallets` shows.
            let balances = try await beneficiary.balances(card.pan)
            #expect(Set(balances.keys) == card.walletCodes)
            for (code, balance) in balances {
                let sum = lines.filter { $0.string("wallet") == code }.reduce(Int64(0)) { $0 + ($1.int("amount") ?? 0) }
                #expect(sum == balance, "\(code): lines add up to \(sum), wallets says \(balance)")
            }
            #expect(balances["MANUELS"] == Int64(10_000 - 700 - 1_000 - 1_100 - 300))

            await t001.close()
            await t002.close()
            await t006.close()
            await gateway.stop()
        }

        @Test("partners: search by city, name and category, case and accents ignored; each with its contact details and what it accepts")
        func partnerSearch() async throws {
            let gateway = try await LiveGateway.start("partners")
            func search(_ arguments: [String]) async throws -> [[String: Any]] {
                let outcome = try await gateway.beneficiary.run("partners", arguments)
                #expect(outcome.succeeded, "\(outcome)")
                return outcome.json?["partners"] as? [[String: Any]] ?? []
            }
            let amiens = gateway.manifest.partners.filter { $0.city == "Amiens" }.map(\.id).sorted()
            #expect(amiens.count >= 2)
            for query in ["amiens", "AMIENS", "Amiens"] {
                #expect(try await search(["--city", query]).compactMap { $0.string("id") }.sorted() == amiens, "--city \(query)")
            }
            for query in ["equipement", "ÉQUIPEMENT", "Équipement pro"] {
                let found = try await search(["--name", query])
                #expect(found.compactMap { $0.string("name") } == ["Équipement Pro Lille"], "--name \(query)")
            }
            #expect(try await search(["--category", "Hébergement"]).compactMap { $0.string("id") } == ["P004"])
            #expect(try await search(["--category", "EQUIPEMENT"]).compactMap { $0.string("id") } == ["P002"])
            #expect(try await search(["--city", "amiens", "--category", "librairie"]).compactMap { $0.string("id") } == ["P001"])
            #expect(try await search(["--name", "nowhere"]).isEmpty)
            // The contract's order: `beneficiary --dir DIR VERB`.
            let contractOrder = try await Tools.run(Tools.product("beneficiary"),
                                                    ["--dir", gateway.directory, "--json", "partners", "--city", "amiens"])
            #expect(contractOrder.succeeded, "\(contractOrder)")
            #expect((contractOrder.json?["partners"] as? [[String: Any]])?.compactMap { $0.string("id") }.sorted() == amiens)

            let all = try await search([])
            #expect(all.count == gateway.manifest.partners.count)
            for partner in all {
                for field in ["name", "address", "city", "phone", "email", "website"] {
                    #expect(partner.string(field)?.isEmpty == false, "\(partner.string("id") ?? "?") has its \(field)")
                }
                #expect(partner["accepts_prepayment"] is Bool && partner["accepts_online"] is Bool)
                #expect((partner["wallets"] as? [String])?.isEmpty == false)
                let manifest = gateway.partner(partner.string("id")!)
                #expect(partner["accepts_prepayment"] as? Bool == manifest.acceptsPrepayment)
                #expect(partner["accepts_online"] as? Bool == manifest.acceptsOnline)
                #expect(partner["wallets"] as? [String] == manifest.wallets)
            }
            await gateway.stop()
        }

        @Test("refused: prepay where prepayment is not accepted, pay-online where online is not, bad amounts, over balance, unknown partner or wallet; nothing changes")
        func refusalsChangeNothing() async throws {
            let gateway = try await LiveGateway.start("refusals")
            let card = try #require(gateway.fundedCards.first { !$0.walletCodes.contains("TRANSPORT") })
            let cli = gateway.beneficiary
            let balances = try await cli.balances(card.pan)
            let history = try await cli.transactions(card.pan).count
            let counts = try gateway.recordCounts()

            func prepay(_ partner: String, _ wallet: String, _ amount: String) async throws -> Tools.Outcome {
                try await cli.run("prepay", ["--card", card.pan, "--partner", partner, "--wallet", wallet, "--amount", amount])
            }
            func payOnline(_ partner: String, _ wallet: String, _ amount: String) async throws -> Tools.Outcome {
                try await cli.run("pay-online", ["--card", card.pan, "--partner", partner, "--wallet", wallet, "--amount", amount])
            }
            #expect(!gateway.partner("P003").acceptsPrepayment && !gateway.partner("P002").acceptsOnline)
            expectRefused(try await prepay("P003", "MANUELS", "500"), code: "partner_refuses", messageContains: "does not accept prepayment")
            expectRefused(try await prepay("P004", "MANUELS", "500"), code: "partner_refuses")
            expectRefused(try await payOnline("P002", "MANUELS", "500"), code: "partner_refuses", messageContains: "does not accept online")
            for verb in [prepay, payOnline] {
                for amount in ["0", "-5", "abc", "12.5", "100000001"] {
                    expectRefused(try await verb("P001", "MANUELS", amount), code: "invalid_amount", messageContains: "amount")
                }
                expectRefused(try await verb("P001", "MANUELS", "10001"), code: "insufficient_funds", messageContains: "insufficient funds")
                expectRefused(try await verb("P999", "MANUELS", "500"), code: "unknown_partner", messageContains: "P999")
                expectRefused(try await verb("P001", "BONBONS", "500"), code: "unknown_wallet", messageContains: "BONBONS")
            }
            // A wallet the card does not hold, a wallet the partner does not take.
            expectRefused(try await payOnline("P003", "TRANSPORT", "500"), code: "unknown_wallet")
            expectRefused(try await prepay("P001", card.wallets.first { $0.code != "MANUELS" }!.code, "500"), code: "wallet_not_usable_here")
            // An unknown or mistyped card.
            expectRefused(try await cli.run("prepay", ["--card", "9250000000000000", "--partner", "P001", "--wallet", "MANUELS",
                                                       "--amount", "100"]), code: "invalid_card_number")

            #expect(try await cli.balances(card.pan) == balances, "no wallet moved")
            #expect(try await cli.transactions(card.pan).count == history)
            #expect(try gateway.recordCounts() == counts, "no voucher, payment or transfer was written")
            await gateway.stop()
        }
    }
}
