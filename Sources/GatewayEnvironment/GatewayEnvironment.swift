import GatewayServer
import Ledger
import NIOCore
import Provisioning

/// The gateway's configuration for an environment directory made by `gateway demo` (issue 11): the server
/// itself knows no directory layout and no key file, only the paths and the card keys it is handed. This
/// is where `gateway serve` (and the tests that run a gateway in-process) turn a directory into them.
extension GatewayConfiguration {
    public static func environment(directory: String, host: String = "127.0.0.1", port: Int = 8583, metricsPort: Int? = nil,
                                   limits: ServerLimits = ServerLimits(),
                                   eventLoopThreads: Int = System.coreCount) throws -> GatewayConfiguration {
        let layout = EnvironmentLayout(directory: directory)
        guard layout.hasLedger else {
            throw LedgerError.storage("no ledger in \(layout.directory) (run `gateway demo --dir \(layout.directory)` first)")
        }
        return GatewayConfiguration(
            files: GatewayFiles(ledgerPath: layout.ledgerPath,
                                caCertificatePath: layout.path(EnvironmentLayout.caCertificateFile),
                                serverCertificatePath: layout.path(EnvironmentLayout.serverCertificateFile),
                                serverKeyPath: layout.path(EnvironmentLayout.serverKeyFile)),
            cardKeys: try IssuerMasterKey.load(layout: layout),
            host: host, port: port, metricsPort: metricsPort, limits: limits, eventLoopThreads: eventLoopThreads)
    }
}
