import Foundation
import GatewayClient
import HDFDomain
import Testing
import WireProtocol

extension BeneficiarySide {
    /// Contract §5 through the `beneficiary` executable (its own OS process), with a live gateway over mutual
    /// TLS as the partner's side: vouchers, online payments, card problems.
    @Suite("Beneficiary side: vouchers, online payments, card problems")
    struct VoucherAndOnlineTests {
        @Test("prepay → voucher.check 00 issued → voucher.redeem 00 → cancel-prepayment refused, wallet unchanged")
        func prepayCheckRedeemThenCancelRefused() async throws {
            let gateway = try await LiveGateway.start("redeem")
            let card = gateway.fundedCards[0]
            let before = card.balance("MANUELS")

            let (prepay, voucher) = try await gateway.beneficiary.prepay(card.pan, partner: "P002", amount: 1_500)
            #expect(prepay.succeeded, "\(prepay)")
            let voucherObject = try #require(voucher)
            let code = try #require(voucherObject.string("code"))
            #expect(code.count == 14 && code.split(separator: "-").count == 3, "grouped XXXX-XXXX-XXXX: \(code)")
            #expect(voucherObject.int("amount") == 1_500)
            #expect(voucherObject.string("wallet") == "MANUELS")
            #expect(voucherObject.string("partner") == "P002")
            #expect(voucherObject.string("status") == "issued")
            #expect(voucherObject.string("expires") == card.wallets.first { $0.code == "MANUELS" }?.expires)
            #expect(try await gateway.beneficiary.balances(card.pan)["MANUELS"] == before - 1_500, "the money leaves at once")

            let t002 = try await gateway.terminal("T002")
            let check = try await t002.voucherCheck(code)
            #expect(check.code == "00", "\(check)")
            #expect(check["voucher"]?.string("status") == "issued")
            #expect(check["voucher"]?.int("amount") == 1_500)
            #expect(check["voucher"]?.string("wallet") == "MANUELS")
            // Read as a person types it: lower case, no dashes.
            let typed = try await t002.voucherCheck(code.replacingOccurrences(of: "-", with: "").lowercased())
            #expect(typed.code == "00", "\(typed)")

            let redeem = try await t002.voucherRedeem(code)
            #expect(redeem.code == "00", "\(redeem)")
            #expect(redeem.int("amount") == 1_500)
            #expect(redeem.string("txn")?.isEmpty == false)

            let cancel = try await gateway.beneficiary.run("cancel-prepayment", ["--card", card.pan, "--voucher", code])
            expectRefused(cancel, code: "voucher_redeemed", messageContains: "already been redeemed")
            #expect(try await gateway.beneficiary.balances(card.pan)["MANUELS"] == before - 1_500, "the wallet is unchanged")
            #expect(try await t002.voucherCheck(code).code == "A1")
            #expect(try gateway.read { tx in try tx.voucher(code: VoucherCode(parsing: code)).status.rawValue } == "redeemed")

            await t002.close()
            await gateway.stop()
        }

        @Test("prepay → cancel-prepayment gives the money back → voucher.redeem A2")
        func prepayCancelThenRedeemRefused() async throws {
            let gateway = try await LiveGateway.start("cancel")
            let card = gateway.fundedCards[1]
            let before = card.balance("MANUELS")

            let (_, voucher) = try await gateway.beneficiary.prepay(card.pan, partner: "P001", amount: 2_000)
            let code = try #require(voucher?.string("code"))
            #expect(try await gateway.beneficiary.balances(card.pan)["MANUELS"] == before - 2_000)

            let cancel = try await gateway.beneficiary.run("cancel-prepayment", ["--card", card.pan, "--voucher", code])
            #expect(cancel.succeeded, "\(cancel)")
            #expect((cancel.json?["voucher"] as? [String: Any])?.string("status") == "cancelled")
            #expect(try await gateway.beneficiary.balances(card.pan)["MANUELS"] == before, "the money is back")

            let t001 = try await gateway.terminal("T001")
            let redeem = try await t001.voucherRedeem(code)
            #expect(redeem.code == "A2", "\(redeem)")
            #expect(try await t001.voucherCheck(code).code == "A2")
            #expect(try await gateway.beneficiary.balances(card.pan)["MANUELS"] == before, "a refused redemption moves nothing")

            // Cancelling twice is refused too, and changes nothing.
            let again = try await gateway.beneficiary.run("cancel-prepayment", ["--card", card.pan, "--voucher", code])
            expectRefused(again, code: "voucher_cancelled")
            #expect(try await gateway.beneficiary.balances(card.pan)["MANUELS"] == before)
            await t001.close()
            await gateway.stop()
        }

        @Test("pay-online → online.list shows it → the partner cancels it (00) → money back; the beneficiary's cancel-online is refused")
        func onlinePaymentCancelledByPartnerOnly() async throws {
            let gateway = try await LiveGateway.start("online")
            let card = gateway.fundedCards[2]
            let other = gateway.fundedCards[3]
            let before = card.balance("MANUELS")

            let pay = try await gateway.beneficiary.run(
                "pay-online", ["--card", card.pan, "--partner", "P001", "--wallet", "MANUELS", "--amount", "1234"])
            #expect(pay.succeeded, "\(pay)")
            let payment = try #require(pay.json?["payment"] as? [String: Any])
            let txn = try #require(payment.string("txn"))
            #expect(payment.int("amount") == 1_234)
            #expect(payment.string("partner") == "P001")
            #expect(payment.string("wallet") == "MANUELS")
            #expect(try await gateway.beneficiary.balances(card.pan)["MANUELS"] == before - 1_234)

            // The beneficiary cannot cancel it: refused, with who can, and nothing changes.
            let counts = try gateway.recordCounts()
            let refused = try await gateway.beneficiary.run("cancel-online", ["--card", card.pan, "--txn", txn])
            expectRefused(refused, code: "cancel_by_partner_only",
                          messageContains: "an online payment can only be cancelled by the partner that received it (Librairie du Beffroi)")
            let unknown = try await gateway.beneficiary.run("cancel-online", ["--card", card.pan, "--txn", "T-NOPE"])
            expectRefused(unknown, code: "unknown_transaction", messageContains: "unknown transaction")
            let notYours = try await gateway.beneficiary.run("cancel-online", ["--card", other.pan, "--txn", txn])
            expectRefused(notYours, code: "unknown_transaction", messageContains: "unknown transaction")
            let plain = try await gateway.beneficiary.run("cancel-online", ["--card", card.pan, "--txn", txn], json: false)
            #expect(plain.status != 0 && plain.stdout.isEmpty && plain.stderr.contains("(Librairie du Beffroi)"), "\(plain)")
            #expect(try gateway.recordCounts() == counts)
            #expect(try await gateway.beneficiary.balances(card.pan)["MANUELS"] == before - 1_234)

            // The partner sees it, by card number and in its list of the last 30 days, newest first.
            let t001 = try await gateway.terminal("T001")
            for list in [try await t001.onlineList(pan: card.pan), try await t001.onlineList()] {
                #expect(list.code == "00", "\(list)")
                let listed = list["payments"]?.arrayValue?.first { $0.string("txn") == txn }
                #expect(listed?.int("amount") == 1_234, "\(list)")
                #expect(listed?.string("status") == "approved")
                #expect(listed?.string("wallet") == "MANUELS")
            }
            // Another partner may not cancel it; its own partner may, once.
            let t002 = try await gateway.terminal("T002")
            #expect(try await t002.cancel(txn).code == "58")
            let cancel = try await t001.cancel(txn)
            #expect(cancel.code == "00", "\(cancel)")
            #expect(cancel.string("original") == txn)
            #expect(cancel.int("amount") == 1_234)
            #expect(try await t001.cancel(txn).code == "A3")
            #expect(try await gateway.beneficiary.balances(card.pan)["MANUELS"] == before, "the money is back")
            #expect(try await t001.onlineList(pan: card.pan)["payments"]?.arrayValue?.first?.string("status") == "cancelled")

            // Still refused afterwards, with the same words.
            let afterwards = try await gateway.beneficiary.run("cancel-online", ["--card", card.pan, "--txn", txn])
            expectRefused(afterwards, code: "cancel_by_partner_only", messageContains: "(Librairie du Beffroi)")
            await t001.close()
            await t002.close()
            await gateway.stop()
        }

        @Test("declare-problem lost/stolen/damaged: the next purchase is declined 41/43/62, without restarting the gateway")
        func declaredProblemsDeclineAtOnce() async throws {
            let gateway = try await LiveGateway.start("declare")
            let t002 = try await gateway.terminal("T002")
            for (index, (reason, decline)) in [("lost", "41"), ("stolen", "43"), ("damaged", "62")].enumerated() {
                let card = gateway.fundedCards[4 + index]
                var software = card.softwareCard
                let first = try await t002.purchase(&software, amount: 300)
                #expect(first.code == "00", "\(reason): a purchase before the declaration: \(first)")

                let declare = try await gateway.beneficiary.run("declare-problem", ["--card", card.pan, "--reason", reason])
                #expect(declare.succeeded, "\(declare)")
                #expect((declare.json?["card"] as? [String: Any])?.string("status") == reason)
                #expect(declare.stdout.contains(card.pan) == false, "the card number is masked")

                let next = try await t002.purchase(&software, amount: 300)
                #expect(next.code == decline, "\(reason): the very next purchase: \(next)")
                #expect(try await t002.balance(&software).code == decline)
                #expect(try gateway.available(card.pan, .manuels) == card.balance("MANUELS") - 300, "nothing more left the wallet")
            }
            let bad = try await gateway.beneficiary.run("declare-problem", ["--card", gateway.fundedCards[7].pan, "--reason", "forgotten"])
            expectRefused(bad, code: "invalid_reason")
            var software = gateway.fundedCards[7].softwareCard
            #expect(try await t002.purchase(&software, amount: 100).code == "00", "a refused declaration blocks nothing")
            await t002.close()
            await gateway.stop()
        }
    }
}
