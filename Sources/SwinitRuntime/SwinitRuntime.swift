// SPDX-License-Identifier: Apache-2.0
// Placeholder: the runtime library arrives with the swinit-run issue.
public enum SwinitRuntime {}
