import Testing
@testable import SwinitRuntime
