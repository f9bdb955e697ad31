// crc8: CRC-8/SMBUS (poly 0x07, init 0x00, not reflected, xorout 0x00), one byte per cycle.
//
// A cycle with clr = 1 restarts the checksum (crc = 0x00; a byte given in the same cycle is
// ignored); a cycle with en = 1 folds data into it, most significant bit first. crc is the
// checksum of the bytes folded since the last clr/rst, registered (valid the cycle after en).
// Check value: "123456789" -> 0xF4. The host side's reference is icespike.board.protocol.
`default_nettype none

module crc8 (
    input  wire       clk,
    input  wire       rst,    // synchronous, active high: crc = 0x00
    input  wire       clr,    // restart the checksum
    input  wire       en,     // fold data into the checksum
    input  wire [7:0] data,
    output reg  [7:0] crc
);

    reg [7:0] nxt;
    integer   i;
    always @* begin
        nxt = crc ^ data;
        for (i = 0; i < 8; i = i + 1)
            nxt = nxt[7] ? ({nxt[6:0], 1'b0} ^ 8'h07) : {nxt[6:0], 1'b0};
    end

    always @(posedge clk) begin
        if (rst | clr) crc <= 8'h00;
        else if (en) crc <= nxt;
    end

endmodule

`default_nettype wire
