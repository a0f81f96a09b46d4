// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// Uses opcodes of Shanghai (PUSH0), Cancun (TSTORE/TLOAD, MCOPY) and Prague-era compilation, to prove that a
/// cairn Clique chain runs the modern EVM that geth never allowed on Clique.
contract ModernOpcodes {
    uint256 public doubled;
    bytes32 public copied;

    /// Keeps `x` in transient storage, reads it back, and copies `word` through memory with MCOPY.
    function run(uint256 x, bytes32 word) external returns (uint256 fromTransient) {
        assembly {
            tstore(0, x)
            fromTransient := tload(0)
            mstore(0x80, word)
            mcopy(0xa0, 0x80, 32)
            sstore(copied.slot, mload(0xa0))
        }
        doubled = fromTransient * 2;
    }

    /// Transient storage is cleared at the end of every transaction.
    function transientAfterTx() external view returns (uint256 value) {
        assembly {
            value := tload(0)
        }
    }
}
