// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {CairnToken} from "../../contracts/CairnToken.sol";

/// A Solidity test (Hardhat 3 runs it in its own EVM, not on a network): setUp() then every test_*().
contract CairnTokenTest {
    CairnToken token;

    function setUp() public {
        token = new CairnToken(1000);
    }

    function test_SupplyGoesToTheDeployer() public view {
        require(token.totalSupply() == 1000, "total supply");
        require(token.balanceOf(address(this)) == 1000, "deployer balance");
    }

    function test_Transfer() public {
        address to = address(0xBEEF);
        require(token.transfer(to, 400), "transfer failed");
        require(token.balanceOf(to) == 400, "receiver balance");
        require(token.balanceOf(address(this)) == 600, "sender balance");
    }
}
