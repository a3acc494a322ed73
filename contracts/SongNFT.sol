// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721URIStorage} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721URIStorage.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";

/// @title Song Studio song tokens
/// @notice One token per generated audio file. A token can only be minted with an EIP-712
///         MintAuthorization signed by the studio's current signer (an EOA or an ERC-1271 wallet).
///         The authorization also binds `recipeHash`, the sha256 of the take's canonical recipe
///         (engine, weights' digests, parameters, seeds): it is stored per token, so anyone can
///         check a recipe against the chain and re-render the audio from it.
///         Anyone may submit the transaction; the token always goes to the signed `to`.
contract SongNFT is ERC721URIStorage, EIP712, Ownable2Step {
    bytes32 public constant MINT_AUTHORIZATION_TYPEHASH =
        keccak256("MintAuthorization(address to,string uri,bytes32 audioHash,bytes32 recipeHash,uint256 nonce,uint256 deadline)");

    address private _signer;
    uint256 private _nextTokenId = 1; // token id 0 means "not minted" in tokenOfAudio

    mapping(bytes32 audioHash => uint256 tokenId) private _tokenOfAudio;
    mapping(uint256 tokenId => bytes32 audioHash) private _audioHashOf;
    mapping(uint256 tokenId => bytes32 recipeHash) private _recipeHashOf;
    mapping(uint256 nonce => bool used) private _nonceUsed;

    error InvalidSignature();
    error AuthorizationExpired(uint256 deadline, uint256 blockTimestamp);
    error AudioAlreadyMinted(bytes32 audioHash, uint256 tokenId);
    error NonceAlreadyUsed(uint256 nonce);
    error ZeroSigner();

    event SignerChanged(address indexed previousSigner, address indexed newSigner);
    event SongMinted(
        uint256 indexed tokenId, address indexed to, bytes32 indexed audioHash, bytes32 recipeHash, string uri, uint256 nonce
    );

    constructor(address initialSigner) ERC721("Song Studio", "SONG") EIP712("SongStudio", "1") Ownable(msg.sender) {
        _setSigner(initialSigner);
    }

    /// @notice The address whose signature authorizes mints.
    function signer() external view returns (address) {
        return _signer;
    }

    /// @notice Rotates the signer; authorizations from the previous signer stop working at once.
    function setSigner(address newSigner) external onlyOwner {
        _setSigner(newSigner);
    }

    function tokenOfAudio(bytes32 audioHash) external view returns (uint256) {
        return _tokenOfAudio[audioHash];
    }

    function audioHashOf(uint256 tokenId) external view returns (bytes32) {
        return _audioHashOf[tokenId];
    }

    /// @notice The recipe hash the token was minted with (zero for an unminted token).
    function recipeHashOf(uint256 tokenId) external view returns (bytes32) {
        return _recipeHashOf[tokenId];
    }

    function nonceUsed(uint256 nonce) external view returns (bool) {
        return _nonceUsed[nonce];
    }

    /// @notice The EIP-712 digest the signer signs for these arguments (for off-chain cross-checks).
    function mintDigest(
        address to,
        string calldata uri,
        bytes32 audioHash,
        bytes32 recipeHash,
        uint256 nonce,
        uint256 deadline
    ) public view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(MINT_AUTHORIZATION_TYPEHASH, to, keccak256(bytes(uri)), audioHash, recipeHash, nonce, deadline)
        );
        return _hashTypedDataV4(structHash);
    }

    /// @notice Mints the token for `audioHash` to `to` if the current signer authorized exactly these arguments.
    function mint(
        address to,
        string calldata uri,
        bytes32 audioHash,
        bytes32 recipeHash,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 tokenId) {
        if (block.timestamp > deadline) revert AuthorizationExpired(deadline, block.timestamp);
        uint256 existing = _tokenOfAudio[audioHash];
        if (existing != 0) revert AudioAlreadyMinted(audioHash, existing);
        if (_nonceUsed[nonce]) revert NonceAlreadyUsed(nonce);
        bytes32 digest = mintDigest(to, uri, audioHash, recipeHash, nonce, deadline);
        // ECDSA for an EOA signer (low-s only, 65 bytes), ERC-1271 when the signer is a contract.
        if (!SignatureChecker.isValidSignatureNowCalldata(_signer, digest, signature)) revert InvalidSignature();

        // Effects before _safeMint: its onERC721Received callback is a re-entry point.
        _nonceUsed[nonce] = true;
        tokenId = _nextTokenId++;
        _tokenOfAudio[audioHash] = tokenId;
        _audioHashOf[tokenId] = audioHash;
        _recipeHashOf[tokenId] = recipeHash;
        _safeMint(to, tokenId);
        _setTokenURI(tokenId, uri);
        emit SongMinted(tokenId, to, audioHash, recipeHash, uri, nonce);
    }

    function _setSigner(address newSigner) private {
        if (newSigner == address(0)) revert ZeroSigner();
        emit SignerChanged(_signer, newSigner);
        _signer = newSigner;
    }
}
