import Testing
@testable import SwinitCore
