// SPDX-License-Identifier: Apache-2.0
// Placeholder: the runtime CLI arrives with the swinit-run issue.
import SwinitRuntime
import ArgumentParser
