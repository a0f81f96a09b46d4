// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// A counter to call, estimate and revert against over JSON-RPC, and a window on the block a call runs in.
contract CallProbe {
    uint256 public count;

    function add(uint256 by) external returns (uint256) {
        require(by > 0, "nothing to add");
        count += by;
        return count;
    }

    /// COINBASE: on Clique, the signer of the block.
    function producer() external view returns (address) {
        return block.coinbase;
    }
}
